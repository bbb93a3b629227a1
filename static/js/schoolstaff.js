// The site's own script, loaded on every page (no inline scripts: the CSP forbids them).

// Search and filter forms leave out their empty fields, so that an address reads
// "?q=ada", not "?q=ada&group=&status=&sort=".
for (const form of document.querySelectorAll('form[method="get"]')) {
  form.addEventListener("formdata", (event) => {
    for (const [name, value] of [...event.formData.entries()]) {
      if (value === "") {
        event.formData.delete(name);
      }
    }
  });
}
