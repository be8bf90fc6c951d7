"""What a patient needs for their visit (interpreter, access, transport, chaperone), told by
the patient and recorded where the rules read it."""
