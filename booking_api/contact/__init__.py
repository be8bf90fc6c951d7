"""A patient's own contact details and how they want to hear from us: a new mobile number
or email address is used only once the one-time code sent to it comes back."""
