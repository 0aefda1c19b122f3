"""Writes of the meters app. Every channel (cabinet, phone line, bank registries, operators,
controllers' files, meter replacement) stores readings through `submit_readings` (one reading:
`submit_reading`), so the rules of docs/architecture.md §5 hold everywhere and are written once, in
`_checked_input` and `_decide`."""

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_update_with_history, get_history_manager_for_model

from accounts.models import User
from meters.models import ImportBatch, Meter, MeterReading
from meters.selectors import month_and_previous_readings, reading_window
from vodokanal.common import clock
from vodokanal.common.months import month_start
from vodokanal.common.russian import ru_date, ru_volume

logger = logging.getLogger(__name__)

# Channels that report when the reading was taken (staff, a bank's payment date); on the
# cabinet and the phone line the reading is taken today.
DATED_CHANNELS = {
    MeterReading.Channel.OPERATOR,
    MeterReading.Channel.CONTROLLER_IMPORT,
    MeterReading.Channel.METER_REPLACEMENT,
    MeterReading.Channel.BANK_REGISTRY,
}


@dataclass(frozen=True)
class ReadingResult:
    reading: MeterReading
    created: bool  # False: the same value was already accepted this month
    superseded: MeterReading | None
    message: str  # Russian, for the subscriber


@dataclass(frozen=True)
class NewReading:
    """One reading of a `submit_readings` batch."""

    meter_id: int
    value: Decimal
    taken_on: date | None = None  # used on DATED_CHANNELS only; elsewhere it is today
    confirmed: bool = False  # the subscriber confirmed an unusually large consumption


def _check_window(*, channel: str, taken_on: date) -> None:
    if channel not in settings.READING_WINDOW_CHANNELS:
        return
    first_day, last_day = settings.READING_WINDOW_DAYS
    if first_day <= taken_on.day <= last_day:
        return
    start, end = reading_window(taken_on)
    raise ValidationError(
        "Показания принимаются с %(first)s по %(last)s число месяца. "
        "Следующий приём: с %(start)s по %(end)s.",
        code="window_closed",
        params={
            "first": first_day,
            "last": last_day,
            "start": ru_date(start),
            "end": ru_date(end),
        },
    )


def _check_meter_state(*, meter: Meter, taken_on: date) -> None:
    state = meter.state_on(taken_on)
    if state == Meter.State.REMOVED:
        raise ValidationError(
            "Счётчик № %(serial)s снят с учёта, показания по нему не принимаются. "
            "Если установлен новый счётчик, сообщите о нём в абонентский отдел.",
            code="meter_removed",
            params={"serial": meter.serial},
        )
    if state == Meter.State.BROKEN:
        raise ValidationError(
            "Счётчик № %(serial)s числится неисправным, его показания не используются для "
            "расчёта: начисление идёт по среднему расходу, затем по нормативу. Замените счётчик "
            "и вызовите контролёра для опломбирования.",
            code="meter_broken",
            params={"serial": meter.serial},
        )
    if state == Meter.State.VERIFICATION_EXPIRED:
        raise ValidationError(
            "Срок поверки счётчика № %(serial)s истёк %(due)s, его показания не используются для "
            "расчёта: начисление идёт по нормативу. Поверьте или замените счётчик и передайте "
            "документы в абонентский отдел.",
            code="verification_expired",
            params={"serial": meter.serial, "due": ru_date(meter.verification_due)},
        )


def _daily_limit(meter: Meter) -> Decimal:
    residents = meter.account.residents
    if residents:
        return Decimal(settings.READING_DAILY_LIMIT_PER_RESIDENT_M3) * residents
    return Decimal(settings.READING_DAILY_LIMIT_NO_RESIDENTS_M3)


def _consumption(
    *, meter: Meter, value: Decimal, previous: Decimal, days: int
) -> tuple[Decimal, bool]:
    """Consumption since the previous reading, and whether the counter rolled over.

    A value below the previous one is a rollover (99998 -> 00003 on 5 digits: 5) only if the
    rolled-over consumption is plausible; otherwise it is a mistake."""
    if value >= previous:
        return value - previous, False
    rolled = meter.rollover - previous + value
    if rolled <= _daily_limit(meter) * days:
        return rolled, True
    raise ValidationError(
        "Показание %(value)s меньше предыдущего принятого %(previous)s. Проверьте цифры до запятой.",
        code="less_than_previous",
        params={"value": ru_volume(value), "previous": ru_volume(previous)},
    )


def _checked_input(
    *, value: Decimal, taken_on: date | None, channel: str, today: date
) -> tuple[Decimal, date]:
    """The rules that need no meter: the value, the date (today unless the channel reports
    it) and the window. Returns the value to store and the date the reading was taken."""
    if not taken_on or channel not in DATED_CHANNELS:
        taken_on = today
    if not isinstance(value, Decimal) or value < 0:
        raise ValidationError("Показание должно быть неотрицательным числом.", code="invalid_value")
    value = value.quantize(Decimal("0.001"))
    if taken_on > today:
        raise ValidationError("Дата показания не может быть в будущем.", code="future_date")
    _check_window(channel=channel, taken_on=taken_on)
    return value, taken_on


@dataclass(frozen=True)
class _Accepted:
    """A new value that `_decide` accepts, with what it measures."""

    consumption: Decimal
    rolled_over: bool
    implausible: bool  # flagged for staff (the cabinet and the phone line ask first)


def _decide(
    *,
    meter: Meter,
    value: Decimal,
    taken_on: date,
    channel: str,
    confirmed: bool,
    current: MeterReading | None,
    baseline: MeterReading | None,
) -> _Accepted | ReadingResult:
    """The rules that need the meter and its readings, without the database. `current` is
    the month's accepted reading, `baseline` the last accepted one before the month. Raises
    ValidationError; returns a ReadingResult when the month already has this value."""
    if channel != MeterReading.Channel.METER_REPLACEMENT:
        _check_meter_state(meter=meter, taken_on=taken_on)
    if value >= meter.rollover:
        raise ValidationError(
            "У счётчика № %(serial)s %(digits)s знаков до запятой: показание не может быть больше %(max)s.",
            code="value_too_large",
            params={
                "serial": meter.serial,
                "digits": meter.digits,
                "max": ru_volume(meter.rollover - Decimal("0.001")),
            },
        )
    if taken_on < meter.installed_on:
        raise ValidationError(
            "Дата показания раньше установки счётчика (%(installed)s).",
            code="before_installation",
            params={"installed": ru_date(meter.installed_on)},
        )
    if current is not None and current.value == value:
        return ReadingResult(
            current, False, None, f"Это показание уже принято {ru_date(current.taken_on)}."
        )

    previous_value = baseline.value if baseline else meter.initial_reading
    previous_date = baseline.taken_on if baseline else meter.installed_on
    if taken_on < previous_date:
        raise ValidationError(
            "Дата показания раньше предыдущего принятого показания (%(date)s).",
            code="earlier_than_previous",
            params={"date": ru_date(previous_date)},
        )
    days = max((taken_on - previous_date).days, 1)
    consumption, rolled_over = _consumption(
        meter=meter, value=value, previous=previous_value, days=days
    )

    implausible = consumption > _daily_limit(meter) * days
    if implausible and channel in settings.READING_CONFIRM_CHANNELS and not confirmed:
        raise ValidationError(
            "Расход %(consumption)s м³ за %(days)s дн. необычно большой. Проверьте показание и "
            "подтвердите его, если оно верное.",
            code="needs_confirmation",
            params={"consumption": ru_volume(consumption), "days": days},
        )
    return _Accepted(consumption, rolled_over, implausible)


class _Batch:
    """The accepted readings of a batch's meters as the batch changes them, kept in memory
    while its readings are decided one after another, and the writes that store them.

    A new reading is kept as its versions: as created, then as superseded if a later reading
    of the batch replaces it in its month. It is inserted in its last version, and its
    history says what submitting the readings one by one would have said."""

    def __init__(self, accepted: dict[int, dict[date, MeterReading]]) -> None:
        # Per meter and month: the accepted reading, with its versions if it is new.
        self.accepted: dict[int, dict[date, tuple[MeterReading, list[MeterReading] | None]]] = {
            meter_id: {month: (reading, None) for month, reading in months.items()}
            for meter_id, months in accepted.items()
        }
        self.superseded: list[MeterReading] = []  # stored readings, as superseded
        self.created: list[list[MeterReading]] = []  # new readings, each as its versions

    def current_and_baseline(
        self, meter_id: int, month: date
    ) -> tuple[MeterReading | None, MeterReading | None]:
        """The month's accepted reading and the last accepted one before the month."""
        months = self.accepted.get(meter_id, {})
        current = months.get(month)
        earlier = max((other for other in months if other < month), default=None)
        return (
            current[0] if current else None,
            months[earlier][0] if earlier is not None else None,
        )

    def accept(self, reading: MeterReading) -> MeterReading | None:
        """Make the new `reading` its month's accepted one; returns the one it supersedes."""
        months = self.accepted.setdefault(reading.meter_id, {})
        versions = [reading]
        self.created.append(versions)
        replaced = months.get(reading.period)
        months[reading.period] = (reading, versions)
        if replaced is None:
            return None
        current, current_versions = replaced
        superseded = copy.copy(current)  # what was handed out before stays as it was
        superseded.status = MeterReading.Status.SUPERSEDED
        superseded.reason_code = "superseded"
        superseded.reason = (
            f"Заменено показанием {ru_volume(reading.value)} от {ru_date(reading.taken_on)}."
        )
        if current_versions is None:
            self.superseded.append(superseded)
        else:
            current_versions.append(superseded)
        return superseded

    def save(self) -> None:
        """The superseded readings first (one accepted reading a month at every moment), then
        the new ones, with history rows as `save()` would write them."""
        if self.superseded:
            bulk_update_with_history(
                self.superseded, MeterReading, ["status", "reason_code", "reason"]
            )
        if not self.created:
            return
        MeterReading.objects.bulk_create([versions[-1] for versions in self.created])
        for versions in self.created:
            stored = versions[-1]
            for version in versions[:-1]:
                version.pk = stored.pk
                version._state.adding = False
                version._state.db = stored._state.db
        history = get_history_manager_for_model(MeterReading)
        # No change reason, as save() writes it (the bulk default would be "").
        history.bulk_history_create(
            [versions[0] for versions in self.created], default_change_reason=None
        )
        replaced = [versions[-1] for versions in self.created if len(versions) > 1]
        if replaced:
            history.bulk_history_create(replaced, update=True, default_change_reason=None)


@transaction.atomic
def submit_readings(
    *,
    readings: Sequence[NewReading],
    channel: str,
    submitted_by: User | None = None,
    import_batch: ImportBatch | None = None,
) -> list[ReadingResult | ValidationError]:
    """Accept readings by the rules of docs/architecture.md §5 (see `submit_reading`), each on its own: the
    result holds, in the order of `readings`, each one's ReadingResult or the ValidationError
    that refused it, and a refusal does not refuse the others. Readings of one meter are
    taken in their order, exactly as if submitted one after another.

    A fixed number of queries, however many readings: the meters are locked in one query in
    primary-key order (two batches cannot deadlock), their months' accepted readings and the
    ones before are read in one more, then one update of the superseded readings and one
    insert of the new ones, each with its history rows. A meter id that does not exist
    raises Meter.DoesNotExist (a bug of the caller, not a refusal)."""
    today = clock.today()
    outcomes: dict[int, ReadingResult | ValidationError] = {}
    checked: list[tuple[int, NewReading, Decimal, date]] = []
    for index, entry in enumerate(readings):
        try:
            value, taken_on = _checked_input(
                value=entry.value, taken_on=entry.taken_on, channel=channel, today=today
            )
        except ValidationError as error:
            outcomes[index] = error
        else:
            checked.append((index, entry, value, taken_on))
    if not checked:
        return [outcomes[index] for index in range(len(readings))]

    meter_ids = {entry.meter_id for _, entry, _, _ in checked}
    meters = {
        meter.pk: meter
        for meter in Meter.objects.filter(pk__in=meter_ids)
        .order_by("pk")
        .select_related("account")
        .select_for_update(of=("self",))
    }
    if missing := meter_ids - meters.keys():
        raise Meter.DoesNotExist(f"Meter matching query does not exist: {sorted(missing)}.")
    batch = _Batch(
        month_and_previous_readings(
            (entry.meter_id, month_start(taken_on)) for _, entry, _, taken_on in checked
        )
    )
    for index, entry, value, taken_on in checked:
        meter = meters[entry.meter_id]
        period = month_start(taken_on)
        current, baseline = batch.current_and_baseline(meter.pk, period)
        try:
            decision = _decide(
                meter=meter,
                value=value,
                taken_on=taken_on,
                channel=channel,
                confirmed=entry.confirmed,
                current=current,
                baseline=baseline,
            )
        except ValidationError as error:
            outcomes[index] = error
            continue
        if isinstance(decision, ReadingResult):
            outcomes[index] = decision
            continue
        reading = MeterReading(
            meter=meter,
            value=value,
            taken_on=taken_on,
            period=period,
            channel=channel,
            consumption=decision.consumption,
            rolled_over=decision.rolled_over,
            needs_review=decision.implausible,
            reason_code="implausible" if decision.implausible else "",
            reason="Большой расход: проверить." if decision.implausible else "",
            submitted_by=submitted_by,
            import_batch=import_batch,
        )
        superseded = batch.accept(reading)
        message = f"Показание {ru_volume(value)} м³ по счётчику № {meter.serial} принято, расход {ru_volume(decision.consumption)} м³."
        if superseded is not None:
            message += " Предыдущее показание этого месяца заменено."
        outcomes[index] = ReadingResult(reading, True, superseded, message)
    batch.save()
    for versions in batch.created:
        logger.info(
            "reading %s accepted for meter %s via %s", versions[0].pk, versions[0].meter_id, channel
        )
    return [outcomes[index] for index in range(len(readings))]


def submit_reading(
    *,
    meter_id: int,
    value: Decimal,
    channel: str,
    taken_on: date | None = None,
    submitted_by: User | None = None,
    confirmed: bool = False,
    import_batch: ImportBatch | None = None,
) -> ReadingResult:
    """Accept a meter reading by the rules of docs/architecture.md §5 or raise ValidationError (Russian message,
    English code): invalid_value, future_date, window_closed, meter_removed, meter_broken,
    verification_expired, value_too_large, before_installation, earlier_than_previous,
    less_than_previous, needs_confirmation.

    Locks the meter row, so concurrent submissions for one meter are serialised; the unique
    constraint (one accepted reading per meter and month) backs it. The same value twice in a
    month is accepted once; a new value supersedes the month's earlier one (both kept).
    A batch of one: the rules are those of `submit_readings`."""
    (outcome,) = submit_readings(
        readings=[NewReading(meter_id, value, taken_on, confirmed)],
        channel=channel,
        submitted_by=submitted_by,
        import_batch=import_batch,
    )
    if isinstance(outcome, ValidationError):
        raise outcome
    return outcome


@transaction.atomic
def reject_reading(*, reading_id: int, reason: str, by: User) -> MeterReading:
    """Staff reject an accepted reading (e.g. a flagged implausible one); it stays, marked."""
    reading = MeterReading.objects.select_for_update().get(pk=reading_id)
    if reading.status != MeterReading.Status.ACCEPTED:
        raise ValidationError("Отклонить можно только принятое показание.", code="not_accepted")
    if not reason.strip():
        raise ValidationError("Укажите причину отклонения.", code="reason_required")
    reading.status = MeterReading.Status.REJECTED
    reading.reason_code = "rejected_by_staff"
    reading.reason = reason.strip()[:300]
    reading.needs_review = False
    reading.save(update_fields=["status", "reason_code", "reason", "needs_review"])
    logger.info("reading %s rejected by user %s", reading.pk, by.pk)
    return reading


@transaction.atomic
def replace_meter(
    *,
    old_meter_id: int,
    final_value: Decimal,
    replaced_on: date,
    new_serial: str,
    new_initial_reading: Decimal,
    new_verification_due: date,
    new_digits: int | None = None,
    sealed_on: date | None = None,
    by: User | None = None,
) -> Meter:
    """Remove a meter with its final reading and install the new one with its initial
    reading, in one transaction: either both happen or neither."""
    old = Meter.objects.select_for_update().get(pk=old_meter_id)
    if old.state == Meter.State.REMOVED:
        raise ValidationError("Этот счётчик уже снят.", code="meter_removed")
    new_serial = new_serial.strip()
    if not new_serial:
        raise ValidationError("Укажите заводской номер нового счётчика.", code="serial_required")
    if Meter.objects.exclude(state=Meter.State.REMOVED).filter(serial=new_serial).exists():
        raise ValidationError(
            "Счётчик № %(serial)s уже установлен.",
            code="serial_taken",
            params={"serial": new_serial},
        )
    if new_verification_due <= replaced_on:
        raise ValidationError(
            "Дата поверки нового счётчика должна быть позже даты установки.",
            code="verification_in_past",
        )
    submit_reading(
        meter_id=old.pk,
        value=final_value,
        channel=MeterReading.Channel.METER_REPLACEMENT,
        taken_on=replaced_on,
        submitted_by=by,
    )
    old.state = Meter.State.REMOVED
    old.removed_on = replaced_on
    old.save(update_fields=["state", "removed_on"])
    return Meter.objects.create(
        account=old.account,
        serial=new_serial,
        kind=old.kind,
        digits=new_digits or old.digits,
        installed_on=replaced_on,
        sealed_on=sealed_on or replaced_on,
        verification_due=new_verification_due,
        initial_reading=new_initial_reading,
    )


def submit_account_readings(
    *, entries: dict[int, tuple[Decimal, bool]], channel: str, submitted_by: User | None
) -> dict[int, ReadingResult | ValidationError]:
    """Submit several meters of one account at once (the cabinet form): each meter on its own,
    so a refusal for one does not lose the others. `entries` maps meter id to (value,
    confirmed); the result maps meter id to its ReadingResult or its ValidationError."""
    outcomes = submit_readings(
        readings=[
            NewReading(meter_id, value, confirmed=confirmed)
            for meter_id, (value, confirmed) in entries.items()
        ],
        channel=channel,
        submitted_by=submitted_by,
    )
    return dict(zip(entries, outcomes, strict=True))
