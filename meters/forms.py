"""The cabinet's readings form: one field per meter that takes readings. Shape only; the
rules are in meters.services.submit_reading, shared with every channel."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from meters.selectors import MeterCard
from vodokanal.common.russian import ru_date, ru_volume


def value_field_name(meter_id: int) -> str:
    return f"meter_{meter_id}"


def confirm_field_name(meter_id: int) -> str:
    return f"confirm_{meter_id}"


class ReadingsForm(forms.Form):
    def __init__(
        self, *args, cards: list[MeterCard], confirm: set[int] = frozenset(), **kwargs
    ) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.meter_ids = []
        for card in cards:
            if not card.takes_readings:
                continue
            meter = card.meter
            last = card.last_reading
            help_text = (
                f"Последнее показание: {ru_volume(last.value)} м³ от {ru_date(last.taken_on)}"
                if last
                else f"Начальное показание: {ru_volume(meter.initial_reading)} м³"
            )
            self.fields[value_field_name(meter.pk)] = forms.DecimalField(
                label=f"{meter.get_kind_display()}, счётчик № {meter.serial}",
                required=False,
                min_value=0,
                max_digits=12,
                decimal_places=3,
                localize=True,
                help_text=help_text,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            if meter.pk in confirm:
                self.fields[confirm_field_name(meter.pk)] = forms.BooleanField(
                    label=f"Подтверждаю показание счётчика № {meter.serial}", required=False
                )
            self.meter_ids.append(meter.pk)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Передать показания"))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if self.meter_ids and all(cleaned.get(value_field_name(i)) is None for i in self.meter_ids):
            raise forms.ValidationError("Введите показание хотя бы одного счётчика.", code="empty")
        return cleaned

    def entries(self) -> dict:
        return {
            meter_id: (
                self.cleaned_data[value_field_name(meter_id)],
                bool(self.cleaned_data.get(confirm_field_name(meter_id))),
            )
            for meter_id in self.meter_ids
            if self.cleaned_data.get(value_field_name(meter_id)) is not None
        }
