"""Interfaces with referrers' systems: orders in over HL7 v2 (MLLP and HTTP) and FHIR R4,
patients matched by NHS number (demographics go to a clerk), order codes mapped to the
catalogue, the FHIR scheduling API, modality worklist data assigned at booking, and every
state change told back to the systems that subscribed (HL7 SIU/ORR, FHIR, signed webhooks)
through rows written in the transaction of the change."""
