"""Signing in and out, and the person's own profile (roles, API tokens)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from accounts import service
from accounts.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    NewUserForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    SignInForm,
    UserForm,
)
from accounts.models import ApiToken, Role, User
from accounts.permissions import roles_required
from core.db import db, utcnow
from inventory.service import list_schools
from web.forms import refusal_shown
from web.responses import safe_next

bp = Blueprint("accounts", __name__)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _new_csrf_secret() -> None:
    """Forget the form token secret (Flask-WTF keeps it in the session as 'csrf_token'), so the
    next form gets a new one: a token seen before sign-in or sign-out is no use after it."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)


def _start_session(user: User, remember: bool) -> None:
    """Sign this browser in as ``user``, with a new form-token secret."""
    login_user(user, remember=remember, fresh=True)
    _new_csrf_secret()


def _end_session() -> None:
    logout_user()
    _new_csrf_secret()


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        outcome = service.sign_in(db.session, form.email.data, form.password.data, _client_address())
        if outcome.locked_for:
            form.form_errors.append(
                f"Too many failed sign-ins. {service.wait_message(outcome.locked_for)}, or reset your password."
            )
            status = 429
        elif outcome.user is None:
            form.form_errors.append(service.SIGN_IN_FAILED)
            status = 400
        else:
            _start_session(outcome.user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for("dashboard.home")))
    elif form.is_submitted():
        status = 400
    return render_template("accounts/sign_in.html", form=form), status


@bp.route("/password-reset", methods=["GET", "POST"])
def password_reset_request():
    form = PasswordResetRequestForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            service.request_password_reset(db.session, form.email.data, _client_address(), utcnow())
        except service.TooManyResetRequests as error:
            form.form_errors.append(error.message)
            return (
                render_template("accounts/password_reset_request.html", form=form),
                429,
                {"Retry-After": str(max(1, int(error.retry_after.total_seconds())))},
            )
        # The same answer whether or not an account has the address: the e-mail, if any, is
        # written by the outbox job.
        flash(
            "If an account has that address, we will e-mail it a link to choose a new password "
            "within a few minutes. The link works once, for an hour.",
            "info",
        )
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/password_reset_request.html", form=form), status


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    user = service.user_for_reset_token(db.session, current_app.config["SECRET_KEY"], token)
    if user is None:
        flash("That reset link has expired or has been used. Ask for a new one.", "error")
        return redirect(url_for("accounts.password_reset_request"))
    form = PasswordResetForm()
    if form.validate_on_submit():
        user, revoked = service.reset_password(
            db.session, current_app.config["SECRET_KEY"], token, form.password.data
        )
        if user is None:
            flash("That reset link has just been used. Ask for a new one.", "error")
            return redirect(url_for("accounts.password_reset_request"))
        _end_session()
        flash(
            f"Your password was changed. You were signed out everywhere, and {_revoked_access(revoked)} "
            "— sign in with the new password, then make new ones on your profile.",
            "success",
        )
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/password_reset.html", form=form), 400 if form.is_submitted() else 200


def _revoked_access(revoked_tokens: int) -> str:
    tokens = (
        f"your {revoked_tokens} API token{'s' if revoked_tokens != 1 else ''} and "
        if revoked_tokens
        else "your "
    )
    return tokens + "calendar links were revoked"


def _remembered() -> bool:
    """Whether this browser keeps its sign-in with a remember-me cookie."""
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


@bp.post("/sign-out")
def sign_out():
    # A POST, so CSRFProtect checks its token: a link elsewhere cannot sign anyone out.
    if current_user.is_authenticated:
        # Clearing the cookie is not enough: a copy saved before (or stolen) would still work.
        service.sign_out_everywhere(db.session, current_user)
    _end_session()
    flash("You have signed out, here and on any other browser signed in as you.", "info")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ApiTokenForm()
    new_token = None
    status = 200
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            _token, new_token = service.create_personal_api_token(
                db.session,
                current_user._get_current_object(),
                password=form.password.data,
                name=form.name.data,
                lifetime_days=form.lifetime_days.data,
                ip_address=_client_address(),
            )
        if not outcome.succeeded:
            status = 400
    elif form.is_submitted():
        status = 400
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).all()
    return render_template(
        "accounts/profile.html", form=form, tokens=tokens, new_token=new_token, now=utcnow()
    ), status


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit() and current_user.password_hash:
        user = current_user._get_current_object()
        with refusal_shown(form) as outcome:
            revoked = service.change_password(
                db.session,
                user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
                ip_address=request.remote_addr or "unknown",
            )
        if outcome.succeeded:
            # The session token changed, ending every session: this browser carries on with the new one.
            _start_session(user, remember=_remembered())
            flash(
                f"Your password was changed. You were signed out everywhere else, and {_revoked_access(revoked)} "
                "— make new ones on your profile.",
                "success",
            )
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/password_change.html", form=form, min_password_length=service.MIN_PASSWORD_LENGTH
    ), 400 if form.is_submitted() else 200


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    service.revoke_api_token(db.session, current_user, token_id)
    flash("The token is revoked: it no longer works.", "success")
    return redirect(url_for("accounts.profile"))


# --- Administration: people and their roles (admins only) ----------------------------------

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@admin_bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    people = service.list_users(db.session, current_user)
    return render_template("accounts/users.html", people=people)


def _user_form_values(form: UserForm) -> dict:
    schools = {school.id: school for school in list_schools(db.session)}
    return {
        "email": form.email.data,
        "name": form.name.data,
        "home_school": schools.get(form.home_school.data),
        "managed_schools": [schools[i] for i in form.managed_schools.data or [] if i in schools],
    }


@admin_bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user():
    form = NewUserForm()
    form.set_school_choices(list_schools(db.session))
    if form.validate_on_submit():
        values = _user_form_values(form)
        roles = [Role.MANAGER] if values["managed_schools"] else []
        roles += [Role.FINANCE] if form.is_finance.data else []
        roles += [Role.ADMIN] if form.is_admin.data else []
        with refusal_shown(form) as outcome:
            user = service.create_user(
                db.session,
                password=form.password.data,
                roles=roles,
                active=form.active.data,
                actor=current_user,
                **values,
            )
        if outcome.succeeded:
            flash(f"{user.name} can now sign in as {user.email}.", "success")
            return redirect(url_for("admin.users"))
    return render_template("accounts/user_form.html", form=form, person=None), 400 if form.errors else 200


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    form = UserForm(obj=person)
    form.set_school_choices(list_schools(db.session))
    if request.method == "GET":
        form.home_school.data = person.home_school_id or 0
        form.managed_schools.data = sorted(person.managed_school_ids)
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            service.update_user(
                db.session,
                current_user,
                person,
                is_finance=form.is_finance.data,
                is_admin=form.is_admin.data,
                active=form.active.data,
                password=form.password.data or None,
                **_user_form_values(form),
            )
        if outcome.succeeded:
            if form.password.data and person.id == current_user.id:
                _start_session(person, remember=_remembered())  # an admin's own new password
            flash(f"Saved the changes to {person.name}.", "success")
            return redirect(url_for("admin.users"))
    return render_template("accounts/user_form.html", form=form, person=person), 400 if form.errors else 200
