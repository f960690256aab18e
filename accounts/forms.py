from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from accounts.service import DEFAULT_TOKEN_LIFETIME_DAYS, TOKEN_LIFETIMES
from web.forms import CheckboxListField, KitshareForm


class SignInForm(KitshareForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Email("Enter a valid email address.")],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me signed in on this device for two weeks")
    submit = SubmitField("Sign in")


class SignOutForm(KitshareForm):
    submit = SubmitField("Sign out")


class ApiTokenForm(KitshareForm):
    name = StringField(
        "Token name",
        validators=[
            DataRequired("Give the token a name, such as the script that will use it."),
            Length(max=100),
        ],
    )
    lifetime_days = SelectField(
        "Works for",
        coerce=int,
        choices=[SelectChoice(days, label) for days, label in TOKEN_LIFETIMES.items()],
        default=DEFAULT_TOKEN_LIFETIME_DAYS,
        validate_choice=True,
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired("Type your password to make a token.")],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Create token")


class UserForm(KitshareForm):
    """An admin's view of a person: details and roles."""

    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter an email address."),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )
    name = StringField("Full name", validators=[DataRequired("Enter the person's name."), Length(max=200)])
    home_school = SelectField("Home School", coerce=int)
    managed_schools = CheckboxListField("Manager of", coerce=int)
    is_finance = BooleanField("Finance: reads utilisation reports for all Schools")
    is_admin = BooleanField("Admin: manages Schools, people and roles")
    active = BooleanField("Account is active (can sign in)", default=True)
    password = PasswordField(
        "Password",
        validators=[Optional(), Length(min=10, message="Use at least 10 characters.")],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Save")

    def set_school_choices(self, schools) -> None:
        self.home_school.choices = [SelectChoice(0, "No home School")] + [
            SelectChoice(s.id, s.name) for s in schools
        ]
        self.managed_schools.choices = [SelectChoice(s.id, f"{s.name} ({s.code})") for s in schools]


class NewUserForm(UserForm):
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Set a first password."),
            Length(min=10, message="Use at least 10 characters."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Add person")


class PasswordResetRequestForm(KitshareForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Email("Enter a valid email address.")],
        render_kw={"autocomplete": "username"},
    )
    submit = SubmitField("Send me a reset link")


class PasswordResetForm(KitshareForm):
    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a new password."),
            Length(min=10, message="Use at least 10 characters."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Set new password")


class ChangePasswordForm(KitshareForm):
    """A signed-in person's own password change. The password rules are the service's."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a new password.")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Confirm new password",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Change password")
