import aidtracker.constraints
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0007_import_record_moves_to_spreadsheets'),
    ]

    # The rules in the database are unchanged: only their messages, and the field each message belongs to.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name='agreement',
                    name='agreement_pledged_not_negative',
                ),
                migrations.RemoveConstraint(
                    model_name='agreement',
                    name='agreement_ends_after_start',
                ),
                migrations.RemoveConstraint(
                    model_name='pairing',
                    name='pairing_unique_province_recipient',
                ),
                migrations.RemoveConstraint(
                    model_name='pairing',
                    name='pairing_valid_to_after_from',
                ),
                migrations.AddConstraint(
                    model_name='agreement',
                    constraint=aidtracker.constraints.FieldCheckConstraint(condition=models.Q(('pledged__gte', 0)), field='pledged', name='agreement_pledged_not_negative', violation_error_message='The pledged amount cannot be negative.'),
                ),
                migrations.AddConstraint(
                    model_name='agreement',
                    constraint=aidtracker.constraints.FieldCheckConstraint(condition=models.Q(('ends_on__isnull', True), ('starts_on__isnull', True), ('ends_on__gte', models.F('starts_on')), _connector='OR'), field='ends_on', name='agreement_ends_after_start', violation_error_message='The end date cannot be before the start date.'),
                ),
                migrations.AddConstraint(
                    model_name='pairing',
                    constraint=aidtracker.constraints.FieldUniqueConstraint(field='recipient', fields=('province', 'recipient'), name='pairing_unique_province_recipient', violation_error_message='This donor province is already paired with this recipient unit.'),
                ),
                migrations.AddConstraint(
                    model_name='pairing',
                    constraint=aidtracker.constraints.FieldCheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_from__isnull', True), ('valid_to__gte', models.F('valid_from')), _connector='OR'), field='valid_to', name='pairing_valid_to_after_from', violation_error_message='“Valid to” cannot be before “valid from”.'),
                ),
            ],
            database_operations=[],
        ),
    ]
