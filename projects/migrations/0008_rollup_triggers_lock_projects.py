"""PostgreSQL: the disbursement and output rollup triggers lock their projects FOR SHARE first.

Before this, a disbursement added while another session changed its project's status (or agreement, category,
recipient, start date) read the project's old key and waited on the rollup row the project update had locked;
after that session committed, the payment was summed under a key the project had left, and the figures drifted
above the base tables. Now each disbursement and output trigger first locks its projects FOR SHARE in id order
(see projects.rollup_sql for the reasoning), so it waits for the project update and reads the committed key.

The trigger bodies are frozen here as installed; projects.rollup_sql is the runtime copy, and a test compares
the installed functions with it. SQLite keeps its row triggers (one writer at a time; nothing to lock).
"""

import importlib

from django.db import migrations

# Only the disbursement and output functions change; the project functions stay as migration 0006 left them.
FUNCTIONS = {
    'projects_disbursement_rollup_ins': (
        '\n'
        'BEGIN\n'
        '  PERFORM 1 FROM projects_project p WHERE p.id IN (SELECT r.project_id FROM (SELECT r.*, 1 AS s FROM new_rows r) r) ORDER BY p.id FOR SHARE;\n'
        '  INSERT INTO projects_projectrollup (agreement_id, category_id, recipient_id, status, start_year, projects, budget_cents, disbursed_cents, beneficiaries) SELECT agreement_id, category_id, recipient_id, status, start_year, SUM(0), SUM(0), SUM(amount_cents), SUM(0) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT r.*, 1 AS s FROM new_rows r) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year HAVING SUM(0) <> 0 OR SUM(0) <> 0 OR SUM(amount_cents) <> 0 OR SUM(0) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year) DO UPDATE SET projects = projects_projectrollup.projects + excluded.projects, budget_cents = projects_projectrollup.budget_cents + excluded.budget_cents, disbursed_cents = projects_projectrollup.disbursed_cents + excluded.disbursed_cents, beneficiaries = projects_projectrollup.beneficiaries + excluded.beneficiaries;\n'
        '  INSERT INTO projects_disbursementrollup (agreement_id, category_id, recipient_id, status, start_year, quarter, amount_cents) SELECT agreement_id, category_id, recipient_id, status, start_year, quarter, SUM(amount_cents) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT r.*, 1 AS s FROM new_rows r) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year, quarter HAVING SUM(amount_cents) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year, quarter ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year, quarter) DO UPDATE SET amount_cents = projects_disbursementrollup.amount_cents + excluded.amount_cents;\n'
        '  DELETE FROM projects_disbursementrollup WHERE amount_cents = 0 AND (agreement_id, category_id, recipient_id, status, start_year, quarter) IN (SELECT agreement_id, category_id, recipient_id, status, start_year, quarter FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT r.*, 1 AS s FROM new_rows r) r JOIN projects_project p ON p.id = r.project_id) x);\n'
        '  RETURN NULL;\n'
        'END\n'
    ),
    'projects_disbursement_rollup_upd': (
        '\n'
        'BEGIN\n'
        '  PERFORM 1 FROM projects_project p WHERE p.id IN (SELECT r.project_id FROM (SELECT a.*, -1 AS s FROM old_rows a WHERE NOT EXISTS (SELECT 1 FROM new_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.date IS NOT DISTINCT FROM a.date AND b.amount IS NOT DISTINCT FROM a.amount) UNION ALL SELECT a.*, 1 AS s FROM new_rows a WHERE NOT EXISTS (SELECT 1 FROM old_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.date IS NOT DISTINCT FROM a.date AND b.amount IS NOT DISTINCT FROM a.amount)) r) ORDER BY p.id FOR SHARE;\n'
        '  INSERT INTO projects_projectrollup (agreement_id, category_id, recipient_id, status, start_year, projects, budget_cents, disbursed_cents, beneficiaries) SELECT agreement_id, category_id, recipient_id, status, start_year, SUM(0), SUM(0), SUM(amount_cents), SUM(0) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT a.*, -1 AS s FROM old_rows a WHERE NOT EXISTS (SELECT 1 FROM new_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.date IS NOT DISTINCT FROM a.date AND b.amount IS NOT DISTINCT FROM a.amount) UNION ALL SELECT a.*, 1 AS s FROM new_rows a WHERE NOT EXISTS (SELECT 1 FROM old_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.date IS NOT DISTINCT FROM a.date AND b.amount IS NOT DISTINCT FROM a.amount)) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year HAVING SUM(0) <> 0 OR SUM(0) <> 0 OR SUM(amount_cents) <> 0 OR SUM(0) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year) DO UPDATE SET projects = projects_projectrollup.projects + excluded.projects, budget_cents = projects_projectrollup.budget_cents + excluded.budget_cents, disbursed_cents = projects_projectrollup.disbursed_cents + excluded.disbursed_cents, beneficiaries = projects_projectrollup.beneficiaries + excluded.beneficiaries;\n'
        '  INSERT INTO projects_disbursementrollup (agreement_id, category_id, recipient_id, status, start_year, quarter, amount_cents) SELECT agreement_id, category_id, recipient_id, status, start_year, quarter, SUM(amount_cents) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT a.*, -1 AS s FROM old_rows a WHERE NOT EXISTS (SELECT 1 FROM new_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.date IS NOT DISTINCT FROM a.date AND b.amount IS NOT DISTINCT FROM a.amount) UNION ALL SELECT a.*, 1 AS s FROM new_rows a WHERE NOT EXISTS (SELECT 1 FROM old_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.date IS NOT DISTINCT FROM a.date AND b.amount IS NOT DISTINCT FROM a.amount)) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year, quarter HAVING SUM(amount_cents) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year, quarter ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year, quarter) DO UPDATE SET amount_cents = projects_disbursementrollup.amount_cents + excluded.amount_cents;\n'
        '  DELETE FROM projects_disbursementrollup WHERE amount_cents = 0 AND (agreement_id, category_id, recipient_id, status, start_year, quarter) IN (SELECT agreement_id, category_id, recipient_id, status, start_year, quarter FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT a.*, -1 AS s FROM old_rows a WHERE NOT EXISTS (SELECT 1 FROM new_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.date IS NOT DISTINCT FROM a.date AND b.amount IS NOT DISTINCT FROM a.amount) UNION ALL SELECT a.*, 1 AS s FROM new_rows a WHERE NOT EXISTS (SELECT 1 FROM old_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.date IS NOT DISTINCT FROM a.date AND b.amount IS NOT DISTINCT FROM a.amount)) r JOIN projects_project p ON p.id = r.project_id) x);\n'
        '  RETURN NULL;\n'
        'END\n'
    ),
    'projects_disbursement_rollup_del': (
        '\n'
        'BEGIN\n'
        '  PERFORM 1 FROM projects_project p WHERE p.id IN (SELECT r.project_id FROM (SELECT r.*, -1 AS s FROM old_rows r) r) ORDER BY p.id FOR SHARE;\n'
        '  INSERT INTO projects_projectrollup (agreement_id, category_id, recipient_id, status, start_year, projects, budget_cents, disbursed_cents, beneficiaries) SELECT agreement_id, category_id, recipient_id, status, start_year, SUM(0), SUM(0), SUM(amount_cents), SUM(0) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT r.*, -1 AS s FROM old_rows r) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year HAVING SUM(0) <> 0 OR SUM(0) <> 0 OR SUM(amount_cents) <> 0 OR SUM(0) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year) DO UPDATE SET projects = projects_projectrollup.projects + excluded.projects, budget_cents = projects_projectrollup.budget_cents + excluded.budget_cents, disbursed_cents = projects_projectrollup.disbursed_cents + excluded.disbursed_cents, beneficiaries = projects_projectrollup.beneficiaries + excluded.beneficiaries;\n'
        '  INSERT INTO projects_disbursementrollup (agreement_id, category_id, recipient_id, status, start_year, quarter, amount_cents) SELECT agreement_id, category_id, recipient_id, status, start_year, quarter, SUM(amount_cents) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT r.*, -1 AS s FROM old_rows r) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year, quarter HAVING SUM(amount_cents) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year, quarter ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year, quarter) DO UPDATE SET amount_cents = projects_disbursementrollup.amount_cents + excluded.amount_cents;\n'
        '  DELETE FROM projects_disbursementrollup WHERE amount_cents = 0 AND (agreement_id, category_id, recipient_id, status, start_year, quarter) IN (SELECT agreement_id, category_id, recipient_id, status, start_year, quarter FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, (EXTRACT(YEAR FROM r.date)::integer * 10 + EXTRACT(QUARTER FROM r.date)::integer) AS quarter, r.s * ROUND(r.amount * 100)::bigint AS amount_cents FROM (SELECT r.*, -1 AS s FROM old_rows r) r JOIN projects_project p ON p.id = r.project_id) x);\n'
        '  RETURN NULL;\n'
        'END\n'
    ),
    'projects_facilityoutput_rollup_ins': (
        '\n'
        'BEGIN\n'
        '  PERFORM 1 FROM projects_project p WHERE p.id IN (SELECT r.project_id FROM (SELECT r.*, 1 AS s FROM new_rows r) r) ORDER BY p.id FOR SHARE;\n'
        '  INSERT INTO projects_facilityrollup (agreement_id, category_id, recipient_id, status, start_year, facility_type_id, quantity) SELECT agreement_id, category_id, recipient_id, status, start_year, facility_type_id, SUM(quantity) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, r.facility_type_id, r.s * r.quantity AS quantity FROM (SELECT r.*, 1 AS s FROM new_rows r) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year, facility_type_id HAVING SUM(quantity) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year, facility_type_id ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year, facility_type_id) DO UPDATE SET quantity = projects_facilityrollup.quantity + excluded.quantity;\n'
        '  DELETE FROM projects_facilityrollup WHERE quantity = 0 AND (agreement_id, category_id, recipient_id, status, start_year, facility_type_id) IN (SELECT agreement_id, category_id, recipient_id, status, start_year, facility_type_id FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, r.facility_type_id, r.s * r.quantity AS quantity FROM (SELECT r.*, 1 AS s FROM new_rows r) r JOIN projects_project p ON p.id = r.project_id) x);\n'
        '  RETURN NULL;\n'
        'END\n'
    ),
    'projects_facilityoutput_rollup_upd': (
        '\n'
        'BEGIN\n'
        '  PERFORM 1 FROM projects_project p WHERE p.id IN (SELECT r.project_id FROM (SELECT a.*, -1 AS s FROM old_rows a WHERE NOT EXISTS (SELECT 1 FROM new_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.facility_type_id IS NOT DISTINCT FROM a.facility_type_id AND b.quantity IS NOT DISTINCT FROM a.quantity) UNION ALL SELECT a.*, 1 AS s FROM new_rows a WHERE NOT EXISTS (SELECT 1 FROM old_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.facility_type_id IS NOT DISTINCT FROM a.facility_type_id AND b.quantity IS NOT DISTINCT FROM a.quantity)) r) ORDER BY p.id FOR SHARE;\n'
        '  INSERT INTO projects_facilityrollup (agreement_id, category_id, recipient_id, status, start_year, facility_type_id, quantity) SELECT agreement_id, category_id, recipient_id, status, start_year, facility_type_id, SUM(quantity) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, r.facility_type_id, r.s * r.quantity AS quantity FROM (SELECT a.*, -1 AS s FROM old_rows a WHERE NOT EXISTS (SELECT 1 FROM new_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.facility_type_id IS NOT DISTINCT FROM a.facility_type_id AND b.quantity IS NOT DISTINCT FROM a.quantity) UNION ALL SELECT a.*, 1 AS s FROM new_rows a WHERE NOT EXISTS (SELECT 1 FROM old_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.facility_type_id IS NOT DISTINCT FROM a.facility_type_id AND b.quantity IS NOT DISTINCT FROM a.quantity)) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year, facility_type_id HAVING SUM(quantity) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year, facility_type_id ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year, facility_type_id) DO UPDATE SET quantity = projects_facilityrollup.quantity + excluded.quantity;\n'
        '  DELETE FROM projects_facilityrollup WHERE quantity = 0 AND (agreement_id, category_id, recipient_id, status, start_year, facility_type_id) IN (SELECT agreement_id, category_id, recipient_id, status, start_year, facility_type_id FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, r.facility_type_id, r.s * r.quantity AS quantity FROM (SELECT a.*, -1 AS s FROM old_rows a WHERE NOT EXISTS (SELECT 1 FROM new_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.facility_type_id IS NOT DISTINCT FROM a.facility_type_id AND b.quantity IS NOT DISTINCT FROM a.quantity) UNION ALL SELECT a.*, 1 AS s FROM new_rows a WHERE NOT EXISTS (SELECT 1 FROM old_rows b WHERE b.id = a.id AND b.project_id IS NOT DISTINCT FROM a.project_id AND b.facility_type_id IS NOT DISTINCT FROM a.facility_type_id AND b.quantity IS NOT DISTINCT FROM a.quantity)) r JOIN projects_project p ON p.id = r.project_id) x);\n'
        '  RETURN NULL;\n'
        'END\n'
    ),
    'projects_facilityoutput_rollup_del': (
        '\n'
        'BEGIN\n'
        '  PERFORM 1 FROM projects_project p WHERE p.id IN (SELECT r.project_id FROM (SELECT r.*, -1 AS s FROM old_rows r) r) ORDER BY p.id FOR SHARE;\n'
        '  INSERT INTO projects_facilityrollup (agreement_id, category_id, recipient_id, status, start_year, facility_type_id, quantity) SELECT agreement_id, category_id, recipient_id, status, start_year, facility_type_id, SUM(quantity) FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, r.facility_type_id, r.s * r.quantity AS quantity FROM (SELECT r.*, -1 AS s FROM old_rows r) r JOIN projects_project p ON p.id = r.project_id) x GROUP BY agreement_id, category_id, recipient_id, status, start_year, facility_type_id HAVING SUM(quantity) <> 0 ORDER BY agreement_id, category_id, recipient_id, status, start_year, facility_type_id ON CONFLICT (agreement_id, category_id, recipient_id, status, start_year, facility_type_id) DO UPDATE SET quantity = projects_facilityrollup.quantity + excluded.quantity;\n'
        '  DELETE FROM projects_facilityrollup WHERE quantity = 0 AND (agreement_id, category_id, recipient_id, status, start_year, facility_type_id) IN (SELECT agreement_id, category_id, recipient_id, status, start_year, facility_type_id FROM (SELECT p.agreement_id, p.category_id, p.recipient_id, p.status, COALESCE(EXTRACT(YEAR FROM p.start_date)::integer, 0) AS start_year, r.facility_type_id, r.s * r.quantity AS quantity FROM (SELECT r.*, -1 AS s FROM old_rows r) r JOIN projects_project p ON p.id = r.project_id) x);\n'
        '  RETURN NULL;\n'
        'END\n'
    ),
}


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, body in FUNCTIONS.items():
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$", params=None
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    previous = importlib.import_module("projects.migrations.0006_statement_rollup_triggers")
    for table in ("projects_disbursement", "projects_facilityoutput"):
        for sql in previous.postgresql_sql(table):
            if sql.startswith("CREATE OR REPLACE FUNCTION"):
                schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("projects", "0007_project_disbursement_output_version")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
