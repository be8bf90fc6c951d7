"""The FHIR R4 scheduling API at /fhir (UK Core profiles): resources built from our rows and
validated with fhir.resources, searches, the scheduling operations, OperationOutcome errors."""
