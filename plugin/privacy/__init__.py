"""Privacy operations (GDPR articles 15, 17 and 20): export and erase what is held about a
person.

``export`` builds the export document, ``erase`` erases a person in one transaction,
``markers`` keeps erased workers out of later HRIS syncs, ``models`` holds the audit trail.
The submodules are imported directly (the store imports ``models`` to register its tables).
"""

__all__: list[str] = []
