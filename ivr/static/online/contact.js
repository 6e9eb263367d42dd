// The box for contact details shows only while "leave contact details" is chosen, as
// GOV.UK's conditionally revealed radios do. Hidden, it is also disabled, so what was
// typed in it stays in the browser (back if they choose again) and is never sent.
// Without JavaScript the box is always shown, and the server asks about details written
// while "stay anonymous" is chosen.
(function () {
  'use strict';
  var anonymous = document.getElementById('anonymity-anonymous');
  var contact = document.getElementById('anonymity-contact');
  var details = document.getElementById('contact-details');
  var box = document.getElementById('contact');
  if (!anonymous || !contact || !details || !box) { return; }
  // The server asked about details written while "stay anonymous" was chosen: they stay
  // in view, with the question, until the sender chooses.
  var asked = !!document.getElementById('anonymity-error');

  function follow() {
    var show = contact.checked || asked;
    details.hidden = !show;
    box.disabled = !show;
  }
  function chosen() {
    asked = false;
    follow();
  }
  anonymous.addEventListener('change', chosen);
  contact.addEventListener('change', chosen);
  follow();
}());
