"""HL7 v2.5.1: orders in (ORM^O01, OMI^O23) read by position and acknowledged (`er7`,
checked against hl7apy in tests), scheduling and order status out (SIU, ORR) built with
hl7apy, and MLLP framing."""
