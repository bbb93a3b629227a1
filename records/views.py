from django.contrib.messages.views import SuccessMessageMixin


class ObjectSuccessMessageMixin(SuccessMessageMixin):
    """Name the object in the success message: "Staff member %(object)s created."."""

    def get_success_message(self, cleaned_data):
        return self.success_message % {"object": self.object}
