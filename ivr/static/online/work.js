// Proof of work: find a number whose SHA-256, after the form's challenge, starts with
// enough zero bits. It costs a person's browser a moment and a flood of reports a lot
// (the server asks for more bits as reports grow). Every report needs it; without
// JavaScript a person types the characters of a picture instead.
(function () {
  'use strict';
  var form = document.getElementById('report-form');
  if (!form || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
  var challenge = form.getAttribute('data-challenge');
  var bits = parseInt(form.getAttribute('data-bits'), 10);
  var work = document.getElementById('work');
  var question = document.getElementById('question');
  var encoder = new TextEncoder();
  var done = false;
  var waiting = false;

  function zeroBits(bytes) {
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { count += 8; continue; }
      var b = bytes[i];
      while ((b & 0x80) === 0) { count += 1; b <<= 1; }
      return count;
    }
    return count;
  }

  async function solve() {
    for (var n = 0; n < 1e8; n++) {
      var digest = await crypto.subtle.digest('SHA-256', encoder.encode(challenge + ':' + n));
      if (zeroBits(new Uint8Array(digest)) >= bits) { return String(n); }
    }
    return '';
  }

  // The picture stays in sight only where it was answered wrongly (typed by a person).
  if (question && !question.classList.contains('group-error')) { question.hidden = true; }
  solve().then(function (found) {
    work.value = found;
    done = true;
    if (!found && question) { question.hidden = false; }
    if (waiting) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  });
  form.addEventListener('submit', function (event) {
    if (!done) { event.preventDefault(); waiting = true; }
  });
}());
