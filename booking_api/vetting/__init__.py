"""Staff decisions on a request, over HTTP: the rules' verdicts explained, vetting (justify
or reject), recording a fact, overriding a rule with a reason. The processes themselves are
`booking_api.requests.flows`."""
