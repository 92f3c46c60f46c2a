"""Database-level immutability of published plan versions (as catalog migration 0002).

The model layer refuses such writes too; these triggers also stop raw SQL, bulk
``update()`` and any other path. Deletes are refused in the model layer only, because
test-database flushes delete every row.
"""

from django.db import migrations

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION plans_refuse_published_version_update() RETURNS trigger AS $$
    BEGIN
        IF OLD.status = 'published' THEN
            RAISE EXCEPTION 'plan version % is published and cannot be changed', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER plans_planversion_immutable BEFORE UPDATE ON plans_planversion
    FOR EACH ROW EXECUTE FUNCTION plans_refuse_published_version_update();
    """,
    """
    CREATE OR REPLACE FUNCTION plans_refuse_published_window_write() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM plans_planversion v WHERE v.id = NEW.version_id AND v.status = 'published')
           OR (TG_OP = 'UPDATE' AND EXISTS (
               SELECT 1 FROM plans_planversion v WHERE v.id = OLD.version_id AND v.status = 'published')) THEN
            RAISE EXCEPTION 'plan version % is published; its windows cannot change', NEW.version_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER plans_planwindow_frozen BEFORE INSERT OR UPDATE ON plans_planwindow
    FOR EACH ROW EXECUTE FUNCTION plans_refuse_published_window_write();
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS plans_planversion_immutable ON plans_planversion;",
    "DROP TRIGGER IF EXISTS plans_planwindow_frozen ON plans_planwindow;",
    "DROP FUNCTION IF EXISTS plans_refuse_published_version_update();",
    "DROP FUNCTION IF EXISTS plans_refuse_published_window_write();",
]

SQLITE_FORWARD = [
    """
    CREATE TRIGGER plans_planversion_immutable BEFORE UPDATE ON plans_planversion
    FOR EACH ROW WHEN OLD.status = 'published'
    BEGIN SELECT RAISE(ABORT, 'plan version is published and cannot be changed'); END;
    """,
    """
    CREATE TRIGGER plans_planwindow_frozen_insert BEFORE INSERT ON plans_planwindow
    FOR EACH ROW WHEN (SELECT status FROM plans_planversion WHERE id = NEW.version_id) = 'published'
    BEGIN SELECT RAISE(ABORT, 'plan version is published; its windows cannot change'); END;
    """,
    """
    CREATE TRIGGER plans_planwindow_frozen_update BEFORE UPDATE ON plans_planwindow
    FOR EACH ROW WHEN (SELECT status FROM plans_planversion WHERE id = OLD.version_id) = 'published'
        OR (SELECT status FROM plans_planversion WHERE id = NEW.version_id) = 'published'
    BEGIN SELECT RAISE(ABORT, 'plan version is published; its windows cannot change'); END;
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS plans_planversion_immutable;",
    "DROP TRIGGER IF EXISTS plans_planwindow_frozen_insert;",
    "DROP TRIGGER IF EXISTS plans_planwindow_frozen_update;",
]


def forward(apps, schema_editor):
    statements = {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    statements = {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
