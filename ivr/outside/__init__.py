"""Adapters for what lies outside the service: each a small interface, a real and a local side.

| module     | interface        | local (embedded default)      | production             |
| storage    | ``ObjectStore``  | a folder (``recordings/``)    | S3                     |
| anchors    | ``AnchorLog``    | a file                        | S3 under Object Lock   |
| twilio_api | ``TwilioApi``    | the loopback emulator         | api.twilio.com         |
| mail       | ``Mailer``       | an outbox folder              | SMTP                   |
| audio      | pydub and ffmpeg: cleaning and measuring recordings              |
| metadata   | Pillow and pikepdf in a sandbox: stripping what files say        |

The composition root (``ivr.services``) chooses each implementation from the config;
the key service's adapters are with the rest of the keys, in ``ivr.crypto.keys``.
"""
