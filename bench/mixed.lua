-- wrk script: ask for the addresses of a file (one path a line) in turn, each
-- thread starting at its own place, so that nearly every request is a new address.
--   wrk -s bench/mixed.lua ... URL -- FILE
local threads = 0

function setup(thread)
   thread:set("start", threads * 997)
   threads = threads + 1
end

local paths = {}
local next_path = 0

function init(args)
   for line in io.lines(args[1]) do
      paths[#paths + 1] = line
   end
   next_path = start or 0
end

function request()
   next_path = next_path % #paths + 1
   return wrk.format("GET", paths[next_path])
end
