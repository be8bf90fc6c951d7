"""Background work, one mechanism: queued jobs (`job` table) and periodic jobs that run once
per period across every process (`periodic_run` table), both claimed with leases so a killed
worker's work is picked up again, and a runner (`runner`) that runs them in threads inside
`cdip serve` or `cdip worker`. What runs is composed above every context
(`booking_api.background`)."""
