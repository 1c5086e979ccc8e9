"""maeum's engine, free of any chat platform.

Its face, the only modules adapters import: ``engine.client`` (the :class:`EngineClient`
interface and the in-process engine), ``engine.types`` (the neutral message and result types),
``engine.settings`` and ``engine.errors``. Behind it, by what they do: ``inference`` (models and
the worker thread), ``conversation`` (the reply policy), ``safety`` (crisis detection and
referral), ``mood`` (reports and check-ins) and ``store`` (the database)."""
