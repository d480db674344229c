"""Donor provinces, recipient units, pairings, aid agreements and who may see what."""

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, F, Q, Value
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from agreements.uploads import validate_document
from aidtracker.constraints import FieldCheckConstraint, FieldUniqueConstraint
from aidtracker.versioning import AuditHistory, VersionedModel


class Province(models.Model):
    """A donor province or city (援助省市), identified by its GB/T 2260 code."""

    code = models.CharField(_("code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    union_name = models.CharField(_("union name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("donor province")
        verbose_name_plural = _("donor provinces")

    def __str__(self):
        return self.name


class RecipientUnit(models.Model):
    """A Xinjiang union unit receiving aid (受援单位), in a tree of region/prefecture/county or
    corps/division/regiment.

    `path` is a materialised path ("/650000/653100/653101/") so "this unit and below" is one indexed
    prefix query; it is recomputed on save for the unit and its descendants.
    """

    class System(models.TextChoices):
        XUAR = "xuar", _("Xinjiang Uygur Autonomous Region")
        XPCC = "xpcc", _("Xinjiang Production and Construction Corps")

    class Level(models.TextChoices):
        REGION = "region", _("region")
        PREFECTURE = "prefecture", _("prefecture")
        COUNTY = "county", _("county")
        CORPS = "corps", _("corps")
        DIVISION = "division", _("division")
        REGIMENT = "regiment", _("regiment")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    system = models.CharField(_("system"), max_length=10, choices=System.choices)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # db_index on a CharField also gives PostgreSQL a varchar_pattern_ops index for LIKE 'prefix%'.
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("recipient unit")
        verbose_name_plural = _("recipient units")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        old_path = self.path
        self.path = self.compute_path()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            for child in RecipientUnit.objects.filter(parent=self):
                child.save()

    def compute_path(self):
        prefix = self.parent.path if self.parent_id else "/"
        return f"{prefix}{self.code}/"

    def subtree(self):
        """This unit and every unit below it."""
        return RecipientUnit.objects.filter(path__startswith=self.path)


class Pairing(models.Model):
    """Which donor province aids which recipient unit (结对关系): used to suggest and warn, never to block."""

    province = models.ForeignKey(Province, verbose_name=_("donor province"), on_delete=models.PROTECT)
    recipient = models.ForeignKey(RecipientUnit, verbose_name=_("recipient unit"), on_delete=models.PROTECT)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["province__order", "recipient__path"]
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        constraints = [
            FieldUniqueConstraint(
                fields=["province", "recipient"],
                name="pairing_unique_province_recipient",
                field="recipient",
                violation_error_message=_("This donor province is already paired with this recipient unit."),
            ),
            FieldCheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="pairing_valid_to_after_from",
                field="valid_to",
                violation_error_message=_("“Valid to” cannot be before “valid from”."),
            ),
        ]

    def __str__(self):
        return f"{self.province} → {self.recipient}"

    @classmethod
    def covering(cls, province, path):
        """Pairings of `province` whose unit is the unit at `path`, above it or below it.

        `province` and `path` may be values or `OuterRef`s, so the same rule flags one agreement or a whole
        changelist (as an `Exists` annotation).
        """
        unit_path = ExpressionWrapper(
            path if hasattr(path, "resolve_expression") else Value(path), output_field=models.CharField()
        )
        return (
            cls.objects.filter(province=province)
            .annotate(_unit_path=unit_path)
            .filter(Q(recipient__path__startswith=unit_path) | Q(_unit_path__startswith=F("recipient__path")))
        )


class Agreement(VersionedModel):
    """An aid agreement (援疆协议) signed by a donor province's union with a Xinjiang union."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SIGNED = "signed", _("signed")
        COMPLETED = "completed", _("completed")
        TERMINATED = "terminated", _("terminated")

    # Statuses whose agreements count in the figures (drafts and terminated ones do not).
    COUNTED = (Status.SIGNED, Status.COMPLETED)

    code = models.CharField(_("agreement code"), max_length=50, unique=True)
    title = models.CharField(_("title"), max_length=200)
    province = models.ForeignKey(Province, verbose_name=_("donor province"), on_delete=models.PROTECT)
    donor_unit = models.CharField(_("signing union"), max_length=100, blank=True)
    recipient = models.ForeignKey(RecipientUnit, verbose_name=_("recipient unit"), on_delete=models.PROTECT)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    pledged = models.DecimalField(_("pledged amount (yuan)"), max_digits=14, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    document = models.FileField(
        _("signed document"), upload_to="agreements/%Y/", blank=True, validators=[validate_document]
    )
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1)  # see aidtracker.versioning

    history = AuditHistory(excluded_fields=["document"])

    # How the scoping function (agreements.access) reaches the province and the recipient.
    scope_province = "province"
    scope_recipient = "recipient"

    class Meta:
        ordering = ["province__order", "code"]
        verbose_name = _("aid agreement")
        verbose_name_plural = _("aid agreements")
        permissions = [
            ("import_agreement", _("Can import aid agreements")),
            ("export_agreement", _("Can export aid agreements")),
        ]
        constraints = [
            FieldCheckConstraint(
                condition=Q(pledged__gte=0),
                name="agreement_pledged_not_negative",
                field="pledged",
                violation_error_message=_("The pledged amount cannot be negative."),
            ),
            FieldCheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="agreement_ends_after_start",
                field="ends_on",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
        ]
        indexes = [models.Index(fields=["province", "status"], name="agreement_province_status")]

    def __str__(self):
        return f"{self.code} {self.title}"

    def is_paired(self):
        """Whether a pairing links this agreement's province to its recipient unit, a unit above or below it."""
        if not (self.province_id and self.recipient_id):
            return True
        return Pairing.covering(self.province_id, self.recipient.path).exists()


class StaffProfile(models.Model):
    """Which province or recipient unit a user works for; decides the rows they may see."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_profile",
    )
    province = models.ForeignKey(
        Province, verbose_name=_("donor province"), on_delete=models.PROTECT, null=True, blank=True
    )
    recipient = models.ForeignKey(
        RecipientUnit,
        verbose_name=_("recipient unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        permissions = [("view_all_provinces", _("Can see the records of every province"))]

    def __str__(self):
        return str(self.user)


class SecurityEvent(models.Model):
    """A failed login, a lockout or a refused access, kept for the audit (at least six months)."""

    class Kind(models.TextChoices):
        LOGIN_FAILED = "login_failed", _("failed login")
        LOCKED_OUT = "locked_out", _("login locked out")
        FORBIDDEN = "forbidden", _("access refused")
        OUT_OF_SCOPE = "out_of_scope", _("object outside the user's scope")

    created = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=10, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    object = models.CharField(_("object"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")

    def __str__(self):
        moment = formats.localize(timezone.localtime(self.created)) if self.created else ""
        return " ".join(part for part in (moment, self.get_kind_display(), self.username, self.path) if part)
