"""Writes of the meters app. Every channel (cabinet, phone line, bank registries, operators,
controllers' files, meter replacement) stores readings through `submit_reading`, so the rules
of issue 3 hold everywhere and are written once."""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.russian import ru_date, ru_volume
from meters.models import ImportBatch, Meter, MeterReading
from meters.selectors import last_accepted_reading, month_start, reading_window

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


@transaction.atomic
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
    """Accept a meter reading by the rules of issue 3 or raise ValidationError (Russian message,
    English code): window_closed, meter_removed, meter_broken, verification_expired,
    value_too_large, future_date, before_installation, earlier_than_previous,
    less_than_previous, needs_confirmation.

    Locks the meter row, so concurrent submissions for one meter are serialised; the unique
    constraint (one accepted reading per meter and month) backs it. The same value twice in a
    month is accepted once; a new value supersedes the month's earlier one (both kept)."""
    today = timezone.localdate()
    if not taken_on or channel not in DATED_CHANNELS:
        taken_on = today
    if not isinstance(value, Decimal) or value < 0:
        raise ValidationError("Показание должно быть неотрицательным числом.", code="invalid_value")
    value = value.quantize(Decimal("0.001"))
    if taken_on > today:
        raise ValidationError("Дата показания не может быть в будущем.", code="future_date")
    _check_window(channel=channel, taken_on=taken_on)

    meter = Meter.objects.select_for_update().select_related("account").get(pk=meter_id)
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

    period = month_start(taken_on)
    current = meter.readings.filter(period=period, status=MeterReading.Status.ACCEPTED).first()
    if current is not None and current.value == value:
        return ReadingResult(
            current, False, None, f"Это показание уже принято {ru_date(current.taken_on)}."
        )

    baseline = last_accepted_reading(meter, before_period=period)
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

    if current is not None:
        current.status = MeterReading.Status.SUPERSEDED
        current.reason_code = "superseded"
        current.reason = f"Заменено показанием {ru_volume(value)} от {ru_date(taken_on)}."
        current.save(update_fields=["status", "reason_code", "reason"])
    reading = MeterReading.objects.create(
        meter=meter,
        value=value,
        taken_on=taken_on,
        period=period,
        channel=channel,
        consumption=consumption,
        rolled_over=rolled_over,
        needs_review=implausible,
        reason_code="implausible" if implausible else "",
        reason="Большой расход: проверить." if implausible else "",
        submitted_by=submitted_by,
        import_batch=import_batch,
    )
    logger.info("reading %s accepted for meter %s via %s", reading.pk, meter.pk, channel)
    message = f"Показание {ru_volume(value)} м³ по счётчику № {meter.serial} принято, расход {ru_volume(consumption)} м³."
    if current is not None:
        message += " Предыдущее показание этого месяца заменено."
    return ReadingResult(reading, True, current, message)


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
    outcomes: dict[int, ReadingResult | ValidationError] = {}
    for meter_id, (value, confirmed) in entries.items():
        try:
            outcomes[meter_id] = submit_reading(
                meter_id=meter_id,
                value=value,
                channel=channel,
                submitted_by=submitted_by,
                confirmed=confirmed,
            )
        except ValidationError as error:
            outcomes[meter_id] = error
    return outcomes
