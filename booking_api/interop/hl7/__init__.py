"""HL7 v2.5.1 with hl7apy: orders in (ORM^O01, OMI^O23), acknowledgements, scheduling and
order status out (SIU, ORR), and MLLP framing."""
