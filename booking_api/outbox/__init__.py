"""The transactional outbox: messages to patients written in the same transaction as the
change they tell of (`enqueue`), delivered by the job runner (`delivery`), with Twilio's
webhooks (`webhooks`), staff's dead letters and letter list (`services`, `views`) and what
the pages show (`read_models`). Above `appointments`: it acts on the changes appointments
note (`core.changes`); appointments never import it."""
