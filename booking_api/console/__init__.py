"""The staff console's side of the service: read models the clerks' pages show (the
network's worklist, a request's whole record, the vetting queue, a site's diary) and the
page steps that change something, each one transaction of its own through the same services
the JSON API uses. Pages get frozen values, never rows or sessions."""
