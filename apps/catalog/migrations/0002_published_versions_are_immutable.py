"""Database-level immutability of published price versions.

The model layer refuses such writes too; these triggers also stop raw SQL, bulk
``update()`` and any other path. Deletes are refused in the model layer only, because
test-database flushes delete every row.
"""

from django.db import migrations

CHILD_TABLES = ("catalog_rate", "catalog_regionmultiplier", "catalog_timeband")

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION catalog_refuse_published_version_update() RETURNS trigger AS $$
    BEGIN
        IF OLD.status = 'published' THEN
            RAISE EXCEPTION 'price version % is published and cannot be changed', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER catalog_priceversion_immutable BEFORE UPDATE ON catalog_priceversion
    FOR EACH ROW EXECUTE FUNCTION catalog_refuse_published_version_update();
    """,
    """
    CREATE OR REPLACE FUNCTION catalog_refuse_published_child_write() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM catalog_priceversion v WHERE v.id = NEW.version_id AND v.status = 'published')
           OR (TG_OP = 'UPDATE' AND EXISTS (
               SELECT 1 FROM catalog_priceversion v WHERE v.id = OLD.version_id AND v.status = 'published')) THEN
            RAISE EXCEPTION 'price version % is published; its rows cannot change', NEW.version_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    *[
        f"""
        CREATE TRIGGER {table}_frozen BEFORE INSERT OR UPDATE ON {table}
        FOR EACH ROW EXECUTE FUNCTION catalog_refuse_published_child_write();
        """
        for table in CHILD_TABLES
    ],
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS catalog_priceversion_immutable ON catalog_priceversion;",
    *[f"DROP TRIGGER IF EXISTS {t}_frozen ON {t};" for t in CHILD_TABLES],
    "DROP FUNCTION IF EXISTS catalog_refuse_published_version_update();",
    "DROP FUNCTION IF EXISTS catalog_refuse_published_child_write();",
]

SQLITE_FORWARD = [
    """
    CREATE TRIGGER catalog_priceversion_immutable BEFORE UPDATE ON catalog_priceversion
    FOR EACH ROW WHEN OLD.status = 'published'
    BEGIN SELECT RAISE(ABORT, 'price version is published and cannot be changed'); END;
    """,
    *[
        sql
        for table in CHILD_TABLES
        for sql in (
            f"""
            CREATE TRIGGER {table}_frozen_insert BEFORE INSERT ON {table}
            FOR EACH ROW WHEN (SELECT status FROM catalog_priceversion WHERE id = NEW.version_id) = 'published'
            BEGIN SELECT RAISE(ABORT, 'price version is published; its rows cannot change'); END;
            """,
            f"""
            CREATE TRIGGER {table}_frozen_update BEFORE UPDATE ON {table}
            FOR EACH ROW WHEN (SELECT status FROM catalog_priceversion WHERE id = OLD.version_id) = 'published'
                OR (SELECT status FROM catalog_priceversion WHERE id = NEW.version_id) = 'published'
            BEGIN SELECT RAISE(ABORT, 'price version is published; its rows cannot change'); END;
            """,
        )
    ],
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS catalog_priceversion_immutable;",
    *[
        f"DROP TRIGGER IF EXISTS {t}_frozen_{op};"
        for t in CHILD_TABLES
        for op in ("insert", "update")
    ],
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
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
