// Once the passkey library has added a passkey, send the name typed for it.
document.addEventListener("otp_webauthn.register_complete", (event) => {
  const form = document.getElementById("passkey-name-form");
  form.elements.credential.value = event.detail.id;
  form.submit();
});
