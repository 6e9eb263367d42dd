"""Tools for development and tests, never used by the running service.

``twilio_emulator`` answers Twilio's REST and media API on loopback, from recorded
behaviour; ``phone`` walks a call through the webhooks as Twilio would. Only the CLI
(``ivr twilio-emulator``, ``ivr call``) and the tests import them.
"""
