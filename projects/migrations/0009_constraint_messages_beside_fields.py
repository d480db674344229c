import aidtracker.constraints
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0008_rollup_triggers_lock_projects'),
    ]

    # The database is unchanged: only the rules' messages and the field each belongs to, the project code's
    # help text and the rollup tables' names.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterModelOptions(
                    name='disbursementrollup',
                    options={'verbose_name': 'disbursement figures (rollup)', 'verbose_name_plural': 'disbursement figures (rollup)'},
                ),
                migrations.AlterModelOptions(
                    name='facilityrollup',
                    options={'verbose_name': 'facility figures (rollup)', 'verbose_name_plural': 'facility figures (rollup)'},
                ),
                migrations.AlterModelOptions(
                    name='projectrollup',
                    options={'verbose_name': 'project figures (rollup)', 'verbose_name_plural': 'project figures (rollup)'},
                ),
                migrations.RemoveConstraint(
                    model_name='disbursement',
                    name='disbursement_unique_reference_per_project',
                ),
                migrations.RemoveConstraint(
                    model_name='disbursement',
                    name='disbursement_amount_not_negative',
                ),
                migrations.RemoveConstraint(
                    model_name='facilityoutput',
                    name='output_unique_type_per_project',
                ),
                migrations.RemoveConstraint(
                    model_name='project',
                    name='project_budget_not_negative',
                ),
                migrations.RemoveConstraint(
                    model_name='project',
                    name='project_ends_after_start',
                ),
                migrations.AlterField(
                    model_name='historicalproject',
                    name='code',
                    field=models.CharField(db_index=True, help_text='Usually the agreement code, a hyphen and three digits, e.g. BJ-2021-01-001. This is a convention, not a rule: any code not used by another project is accepted.', max_length=50, verbose_name='project code'),
                ),
                migrations.AlterField(
                    model_name='project',
                    name='code',
                    field=models.CharField(help_text='Usually the agreement code, a hyphen and three digits, e.g. BJ-2021-01-001. This is a convention, not a rule: any code not used by another project is accepted.', max_length=50, unique=True, verbose_name='project code'),
                ),
                migrations.AddConstraint(
                    model_name='disbursement',
                    constraint=aidtracker.constraints.FieldUniqueConstraint(field='reference', fields=('project', 'reference'), name='disbursement_unique_reference_per_project', violation_error_message='This project already has a disbursement with this voucher number.'),
                ),
                migrations.AddConstraint(
                    model_name='disbursement',
                    constraint=aidtracker.constraints.FieldCheckConstraint(condition=models.Q(('amount__gte', 0)), field='amount', name='disbursement_amount_not_negative', violation_error_message='The amount cannot be negative.'),
                ),
                migrations.AddConstraint(
                    model_name='facilityoutput',
                    constraint=aidtracker.constraints.FieldUniqueConstraint(field='facility_type', fields=('project', 'facility_type'), name='output_unique_type_per_project', violation_error_message='This project already has an output of this facility type: change its quantity instead.'),
                ),
                migrations.AddConstraint(
                    model_name='project',
                    constraint=aidtracker.constraints.FieldCheckConstraint(condition=models.Q(('budget__gte', 0)), field='budget', name='project_budget_not_negative', violation_error_message='The aid amount cannot be negative.'),
                ),
                migrations.AddConstraint(
                    model_name='project',
                    constraint=aidtracker.constraints.FieldCheckConstraint(condition=models.Q(('end_date__isnull', True), ('start_date__isnull', True), ('end_date__gte', models.F('start_date')), _connector='OR'), field='end_date', name='project_ends_after_start', violation_error_message='The end date cannot be before the start date.'),
                ),
            ],
            database_operations=[],
        ),
    ]
