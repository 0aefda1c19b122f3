"""Input shapes of the cabinet; rules live in accounts.services."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from vodokanal.common.law import LAW


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="E-mail или телефон",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": "Неверный e-mail (телефон) или пароль.",
        "inactive": "Учётная запись не активна: подтвердите e-mail по ссылке из письма.",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Войти", css_class="w-100"))


class RegistrationForm(forms.Form):
    full_name = forms.CharField(label="ФИО", max_length=200, required=False)
    email = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label="Телефон (необязательно)",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    password1 = forms.CharField(
        label="Пароль",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Пароль ещё раз",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    consent = forms.BooleanField(
        label=f"Согласен на обработку персональных данных ({LAW['personal_data']})", required=True
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Зарегистрироваться", css_class="w-100"))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2:
            if password1 != password2:
                self.add_error("password2", "Пароли не совпадают.")
            else:
                try:
                    password_validation.validate_password(password1)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return cleaned


class AddAccountForm(forms.Form):
    number = forms.CharField(
        label="Номер лицевого счёта",
        max_length=14,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="10 цифр, указан в квитанции.",
    )
    code = forms.CharField(
        label="Код для личного кабинета",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        help_text="8 знаков, напечатан в квитанции рядом с номером счёта.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Добавить счёт"))

    def clean_number(self) -> str:
        return "".join(self.cleaned_data["number"].split())
