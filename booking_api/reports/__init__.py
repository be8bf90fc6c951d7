"""Reports read from the service's own tables: the reporting engine's input frames built from
the request events, appointments, diary sessions, organisations and exam catalogue
(`service_frames`), and the manager dashboard's figures computed from them (`dashboard`)."""
