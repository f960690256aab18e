"""Rules about people: creating them, their roles, signing in, and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Table, case, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from accounts.models import ApiToken, PasswordResetRequest, Role, SignInCounter, User, new_session_token
from accounts.permissions import require_role
from core.config import Config
from core.db import UTCDateTime, atomic, utcnow
from core.errors import InvalidInput, NotAllowed, NotFound

if TYPE_CHECKING:  # for annotations only: accounts sits below inventory
    from inventory.models import School

MIN_PASSWORD_LENGTH = 10
#: The one message for every failed sign-in, so nobody can learn which addresses have accounts.
SIGN_IN_FAILED = "That email address and password do not match an active account."


@dataclass(frozen=True)
class HashCost:
    """Argon2id's cost (PASSWORD_HASH_TIME_COST, PASSWORD_HASH_MEMORY_KIB; the defaults are Config's)."""

    time_cost: int = Config.PASSWORD_HASH_TIME_COST
    memory_kib: int = Config.PASSWORD_HASH_MEMORY_KIB


def _hasher(cost: HashCost) -> PasswordHasher:
    # Argon2id, OWASP's first choice for password storage.
    return PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=1)


# Process-wide: one hashing cost per deployment, set by the application factory; every sign-in,
# password change and token check hashes with it.
_password_hasher = _hasher(HashCost())


def configure_password_hashing(cost: HashCost) -> None:
    """Set the Argon2id cost for this process (the application factory does, from settings)."""
    global _password_hasher
    _password_hasher = _hasher(cost)


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    """A hash with the current cost: verifying against it when the email is unknown takes as
    long as a real check, so response times do not reveal which addresses have accounts."""
    key = id(_password_hasher)
    if key not in _dummy_hashes:
        _dummy_hashes.clear()
        _dummy_hashes[key] = _password_hasher.hash(secrets.token_hex(16))
    return _dummy_hashes[key]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Only reads: an unknown address
    costs the same Argon2 check as a known one. Call it outside any write transaction."""
    user = find_user_by_email(session, email)
    if user is None or not user.password_hash:
        try:
            _password_hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        return None
    if not verify_password(user, password) or not user.active:
        return None
    return user


@dataclass(frozen=True)
class SignInOutcome:
    """What a sign-in attempt came to: the person, or how long sign-in stays locked, or neither
    (a wrong address or password)."""

    user: User | None = None
    locked_for: dt.timedelta | None = None


def sign_in(session: Session, email: str, password: str, ip_address: str) -> SignInOutcome:
    """Check a sign-in, counting it towards the lockout first.

    The attempt is counted before the password is checked, in a short unit of work of its own;
    one over the limit is refused without checking. The slow Argon2 check runs outside any write
    transaction, so failing sign-ins never hold up anyone else's writes (on SQLite, the database's
    one write lock). A success takes its attempt back and clears the address's count.
    """
    now = utcnow()
    with atomic(session):
        locked_for = count_sign_in_attempt(session, email, ip_address, now)
    if locked_for:
        return SignInOutcome(locked_for=locked_for)
    user = authenticate(session, email, password)
    if user is None:
        return SignInOutcome()
    new_hash = (
        hash_password(password) if _password_hasher.check_needs_rehash(user.password_hash or "") else None
    )
    with atomic(session, user):
        if new_hash:
            user.password_hash = new_hash
        user.last_sign_in_at = now
        forget_sign_in_attempts(session, email, ip_address)
    return SignInOutcome(user=user)


def check_password_rules(password: str) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    return problems


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    home_school: School | None,
    roles: list[Role] | tuple[Role, ...] = (),
    managed_schools: list[School] | tuple[School, ...] = (),
    active: bool = True,
    actor: User | None = None,
) -> User:
    """Create a person (``active``: able to sign in). A manager must manage at least one School.
    ``actor`` is the admin the audit log records (None: the system, such as the command line).
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        errors: dict[str, list[str]] = {}
        email = email.strip()
        if "@" not in email or len(email) > 254:
            errors.setdefault("email", []).append("Enter a valid email address.")
        elif find_user_by_email(session, email) is not None:
            errors.setdefault("email", []).append("Someone already has an account with that email address.")
        if not name.strip():
            errors.setdefault("name", []).append("Enter the person's name.")
        if password is not None:
            for problem in check_password_rules(password):
                errors.setdefault("password", []).append(problem)
        if Role.MANAGER in roles and not managed_schools:
            errors.setdefault("school", []).append("A manager needs a School to manage.")
        if errors:
            raise InvalidInput(field_errors=errors)
        user = User(
            email=email,
            name=name.strip(),
            password_hash=hash_password(password) if password else None,
            home_school=home_school,
            is_finance=Role.FINANCE in roles,
            is_admin=Role.ADMIN in roles,
            managed_schools=list(managed_schools) if Role.MANAGER in roles else [],
            active=active,
        )
        session.add(user)
        session.flush()
        return user


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is the person's password (False for single sign-on only accounts)."""
    if not user.password_hash:
        return False
    try:
        return _password_hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def end_sessions(user: User) -> None:
    """End every signed-in session of the person, on every browser. The login session and the
    remember-me cookie both carry ``session_token`` (``User.get_id``), so a new one makes every
    copy saved before, even a stolen one, open nothing."""
    user.session_token = new_session_token()


def sign_out_everywhere(session: Session, user: User) -> None:
    """End every signed-in session of the person (``end_sessions``). A command: its own unit of work (``core/db.py``)."""
    with atomic(session, user):
        end_sessions(user)


def reset_password(session: Session, secret_key: str, token: str, password: str) -> tuple[User | None, int]:
    """Set a new password through an e-mailed reset link (``password_reset_token``). Returns the
    person and how many working API tokens were revoked (``set_password``); the person is None
    when the link no longer works (just used, or expired). The failed sign-ins counted against
    the address are forgotten. A command: its own unit of work (``core/db.py``)."""
    with atomic(session):
        user = user_for_reset_token(session, secret_key, token)
        if user is None:
            return None, 0
        # Known only now, inside the unit: the audit log records the person resetting their own password.
        session.info["actor_id"] = user.id
        revoked = set_password(session, user, password)
        forget_sign_in_attempts(session, user.email, None)
        return user, revoked


def revoke_access_made_before(session: Session, user: User, now: dt.datetime) -> int:
    """Revoke the person's API tokens and give their calendar feed a new address, after their
    password changed: whoever knew the old password, or held a copied session, may have made
    them. Returns how many of the tokens still worked."""
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = now
    user.calendar_token = new_session_token()
    return sum(1 for token in tokens if token.expires_at is None or token.expires_at > now)


def _replace_password(session: Session, user: User, password_hash: str) -> int:
    user.password_hash = password_hash
    end_sessions(user)
    return revoke_access_made_before(session, user, utcnow())


def set_password(session: Session, user: User, password: str) -> int:
    """Give the person a new password (an e-mailed reset, or an admin). Every signed-in session of
    theirs ends, and their API tokens and calendar-feed address stop working. Returns how many
    working API tokens were revoked. A command: its own unit of work (``core/db.py``)."""
    with atomic(session, user):
        problems = check_password_rules(password)
        if problems:
            raise InvalidInput(field_errors={"password": problems})
        return _replace_password(session, user, hash_password(password))


WRONG_CURRENT_PASSWORD = "That is not your current password."


def change_password(
    session: Session, user: User, *, current_password: str, new_password: str, ip_address: str
) -> int:
    """The person changes their own password, proving they know the current one.

    Wrong guesses count towards the sign-in lockout (a borrowed session must not become a way to
    guess the password). As with a reset, every session of theirs ends (the caller signs the
    browser that asked in again) and their API tokens and calendar-feed address stop working.
    Returns how many working API tokens were revoked. Runs its own units of work, so that the
    slow Argon2 checks happen outside the write lock.
    """
    with atomic(session, user):
        locked_for = count_sign_in_attempt(session, user.email, ip_address, utcnow())
    if locked_for:
        raise InvalidInput(
            field_errors={"current_password": [f"Too many wrong passwords. {wait_message(locked_for)}."]}
        )
    verified_hash = user.password_hash
    errors: dict[str, list[str]] = {}
    if not verify_password(user, current_password):
        errors["current_password"] = [WRONG_CURRENT_PASSWORD]
    problems = check_password_rules(new_password)
    if problems:
        errors["new_password"] = problems
    if errors:
        if "current_password" not in errors:
            with atomic(session, user):
                forget_sign_in_attempts(session, user.email, ip_address)
        raise InvalidInput(field_errors=errors)
    new_hash = hash_password(new_password)
    with atomic(session, user):
        stored_hash = session.scalar(select(User.password_hash).where(User.id == user.id).with_for_update())
        if stored_hash != verified_hash:  # changed by someone else meanwhile
            raise InvalidInput(field_errors={"current_password": [WRONG_CURRENT_PASSWORD]})
        forget_sign_in_attempts(session, user.email, ip_address)
        return _replace_password(session, user, new_hash)


def confirm_password(session: Session, user: User, password: str, ip_address: str) -> None:
    """Make the signed-in person type their password again before something that outlives the
    session (such as a new API token), so a briefly borrowed session cannot be made permanent.

    Wrong passwords count towards the sign-in lockout; the Argon2 check runs outside any write
    transaction. Raises ``InvalidInput`` on the ``password`` field when it is wrong or locked."""
    with atomic(session, user):
        locked_for = count_sign_in_attempt(session, user.email, ip_address, utcnow())
    if locked_for:
        raise InvalidInput(
            field_errors={"password": [f"Too many wrong passwords. {wait_message(locked_for)}."]}
        )
    if not verify_password(user, password):
        raise InvalidInput(field_errors={"password": [WRONG_CURRENT_PASSWORD]})
    with atomic(session, user):
        forget_sign_in_attempts(session, user.email, ip_address)


def user_for_session_token(session: Session, token: str) -> User | None:
    # With the Schools they manage, which every page's menu and most permission checks read.
    user = (
        session.scalars(
            select(User).options(joinedload(User.managed_schools)).where(User.session_token == token)
        )
        .unique()
        .one_or_none()
    )
    return user if user is not None and user.active else None


# --- API tokens -------------------------------------------------------------------------------

TOKEN_PREFIX = "ks_"


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


#: How long a new token works, as offered on the profile page (days: label). A year unless chosen.
TOKEN_LIFETIMES = {30: "30 days", 90: "90 days", 365: "1 year"}
DEFAULT_TOKEN_LIFETIME_DAYS = 365


def create_api_token(
    session: Session, user: User, name: str = "Personal token", expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the token itself, which is never stored.
    Every token expires: a year from now unless ``expires_at`` says otherwise. A command: its own unit of work (``core/db.py``)."""
    with atomic(session, user):
        if not user.active:
            raise NotAllowed("That account is deactivated.")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            user=user,
            name=name.strip() or "Personal token",
            token_hash=_token_hash(secret),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            expires_at=expires_at or utcnow() + dt.timedelta(days=DEFAULT_TOKEN_LIFETIME_DAYS),
        )
        session.add(token)
        session.flush()
        return token, secret


def create_personal_api_token(
    session: Session, user: User, *, password: str, name: str, lifetime_days: int, ip_address: str
) -> tuple[ApiToken, str]:
    """The signed-in person makes a token for themselves, typing their password again: a token
    outlives the session, so a borrowed or stolen session alone must not be able to make one.
    ``lifetime_days`` is one of ``TOKEN_LIFETIMES``. A command: it runs its own units of work
    (the password is checked, in a unit of its own, outside the write lock)."""
    if lifetime_days not in TOKEN_LIFETIMES:
        raise InvalidInput(field_errors={"lifetime_days": ["Choose how long the token works."]})
    confirm_password(session, user, password, ip_address)
    return create_api_token(session, user, name, expires_at=utcnow() + dt.timedelta(days=lifetime_days))


#: How finely a token's last use is recorded. Writing it on every call would turn every API read
#: into a write transaction (a commit, and on SQLite the database's one write lock).
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=1)


def find_api_token(session: Session, secret: str, now: dt.datetime) -> ApiToken | None:
    """The usable token a presented secret belongs to: None when it is unknown, revoked or
    expired, or its account is deactivated. Reads only."""
    token = session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == _token_hash(secret))
    )
    if token is None or not token.is_usable(now) or not token.user.active:
        return None
    return token


def token_use_due(token: ApiToken, now: dt.datetime) -> bool:
    """Whether this use should be recorded: the first, or a minute or more after the last recorded."""
    return token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION


def record_token_use(session: Session, token_id: int, now: dt.datetime) -> None:
    """Record this use of the token, unless one was recorded within the minute (``token_use_due``:
    callers ask it first, so most calls write nothing). A command: its own unit of work
    (``core/db.py``)."""
    with atomic(session):
        token = session.get(ApiToken, token_id)
        if token is not None and token_use_due(token, now):
            token.last_used_at = now


def revoke_api_token(session: Session, actor: User, token_id: int) -> ApiToken:
    """The token's owner (or an admin) revokes it: it stops working at once. A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        token = session.get(ApiToken, token_id)
        if token is None or (token.user_id != actor.id and not actor.is_admin):
            raise NotFound("No such token.")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        return token


# --- Administration ---------------------------------------------------------------------------


def list_users(session: Session, actor: User) -> list[User]:
    require_role(actor, Role.ADMIN)
    return list(session.scalars(select(User).order_by(func.lower(User.name))))


def update_user(
    session: Session,
    actor: User,
    user: User,
    *,
    email: str,
    name: str,
    home_school: School | None,
    is_finance: bool,
    is_admin: bool,
    managed_schools: list[School],
    active: bool,
    password: str | None = None,
) -> User:
    """An admin changes a person's details and roles, and with ``password`` sets a new password
    (``set_password``), all or nothing. Admins cannot lock themselves out. A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        require_role(actor, Role.ADMIN)
        errors: dict[str, list[str]] = {}
        email = email.strip()
        other = find_user_by_email(session, email)
        if "@" not in email or len(email) > 254:
            errors["email"] = ["Enter a valid email address."]
        elif other is not None and other.id != user.id:
            errors["email"] = ["Someone else already has an account with that email address."]
        if not name.strip():
            errors["name"] = ["Enter the person's name."]
        if user.id == actor.id and not is_admin:
            errors["is_admin"] = ["You cannot remove your own admin role; ask another admin."]
        if user.id == actor.id and not active:
            errors["active"] = ["You cannot deactivate your own account."]
        if errors:
            raise InvalidInput(field_errors=errors)
        user.email = email
        user.name = name.strip()
        user.home_school = home_school
        user.is_finance = is_finance
        user.is_admin = is_admin
        user.managed_schools = list(managed_schools)
        if user.active != active:
            # Deactivating ends every session; and neither deactivating nor reactivating lets the
            # person's old API tokens or calendar-feed address work again afterwards.
            end_sessions(user)
            revoke_access_made_before(session, user, utcnow())
        user.active = active
        if password:
            set_password(session, user, password)
        return user


# --- Slowing down password guessing -----------------------------------------------------------

#: Failed sign-ins for one email address within the window before it is locked for the window.
MAX_FAILURES_PER_EMAIL = 5
#: Failed sign-ins from one address within the window (shared networks make this generous).
MAX_FAILURES_PER_IP = 50
LOCKOUT_WINDOW = dt.timedelta(minutes=15)


def wait_message(locked_for: dt.timedelta) -> str:
    minutes = max(1, -(-int(locked_for.total_seconds()) // 60))
    return f"Wait {minutes} minute{'s' if minutes != 1 else ''} and try again"


def _count(session: Session, scope: str, key: str, now: dt.datetime) -> tuple[int, dt.datetime]:
    """Add one to the attempts counted for (scope, key) in the current window, starting a new
    window when the last has passed, and return the new count and when the window started.

    One statement (an upsert returning the new row): the database locks the row, so concurrent
    attempts are counted one after another and each sees the count including all before it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert  # the same API
    table = cast(Table, SignInCounter.__table__)
    expired = table.c.window_started_at <= now - LOCKOUT_WINDOW
    upsert = (
        insert(table)
        .values(scope=scope, key=key, window_started_at=now, attempts=1)
        .on_conflict_do_update(
            index_elements=[table.c.scope, table.c.key],
            set_={
                "attempts": case((expired, 1), else_=table.c.attempts + 1),
                "window_started_at": case(
                    (expired, literal(now, UTCDateTime())), else_=table.c.window_started_at
                ),
            },
        )
    )
    attempts, started = session.execute(upsert.returning(table.c.attempts, table.c.window_started_at)).one()
    if started.tzinfo is None:  # SQLite keeps no zone; RETURNING bypasses the column type here
        started = started.replace(tzinfo=dt.UTC)
    return attempts, started


def count_sign_in_attempt(
    session: Session, email: str, ip_address: str, now: dt.datetime
) -> dt.timedelta | None:
    """Count a sign-in attempt (or any other password check) for the email address typed and the
    client address, before the password is checked. Returns how long sign-in stays locked when
    this attempt is over either limit (then its password must not be checked), else None.

    Counted by the address typed, whether or not an account has it, so the lockout reveals
    nothing about which addresses exist. Call inside a unit of work; keep it short.
    """
    locked_for = None
    for scope, key, limit in (
        ("email", normalise_email(email)[:254], MAX_FAILURES_PER_EMAIL),
        ("ip", ip_address[:254], MAX_FAILURES_PER_IP),
    ):
        attempts, started = _count(session, scope, key, now)
        if attempts > limit:
            remaining = started + LOCKOUT_WINDOW - now
            locked_for = max(locked_for or remaining, remaining)
    return locked_for


def forget_sign_in_attempts(session: Session, email: str, ip_address: str | None) -> None:
    """After a right password: the email address starts afresh, and the client address (when the
    attempt was charged to one) gets it back, since shared networks sign many people in."""
    table = cast(Table, SignInCounter.__table__)
    session.execute(
        delete(table).where(table.c.scope == "email", table.c.key == normalise_email(email)[:254])
    )
    if ip_address is None:
        return
    session.execute(
        update(table)
        .where(table.c.scope == "ip", table.c.key == ip_address[:254], table.c.attempts > 0)
        .values(attempts=table.c.attempts - 1)
    )


def attempts_counted(session: Session, email: str) -> int:
    """How many sign-ins were tried for this address in its current window (for tests and admins)."""
    return (
        session.scalar(
            select(SignInCounter.attempts).where(
                SignInCounter.scope == "email", SignInCounter.key == normalise_email(email)
            )
        )
        or 0
    )


# --- Password reset by e-mail -----------------------------------------------------------------

PASSWORD_RESET_MAX_AGE = dt.timedelta(hours=1)
_RESET_SALT = "kitshare-password-reset"


def password_reset_token(secret_key: str, user: User) -> str:
    """A signed link token for ``user``. It names the person's current session token, which any
    password change (and signing out) rotates: so a token works once, and only until it expires."""
    return URLSafeTimedSerializer(secret_key, salt=_RESET_SALT).dumps({"u": user.id, "s": user.session_token})


def user_for_reset_token(session: Session, secret_key: str, token: str) -> User | None:
    """The active user a reset token is for, or None if it is forged, used or expired."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_RESET_SALT).loads(
            token, max_age=int(PASSWORD_RESET_MAX_AGE.total_seconds())
        )
    except BadData:
        return None
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or user.session_token != data.get("s"):
        return None
    return user


#: Reset e-mails one address can be sent per window, and requests one client may make.
MAX_RESETS_PER_EMAIL = 3
MAX_RESETS_PER_IP = 10
RESET_LIMIT_WINDOW = dt.timedelta(hours=1)


class TooManyResetRequests(InvalidInput):
    """This client asked for too many reset e-mails; it may ask again after ``retry_after``."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        super().__init__(f"Too many reset requests from your network. {wait_message(retry_after)}.")
        self.retry_after = retry_after


def request_password_reset(session: Session, email: str, ip_address: str, now: dt.datetime) -> None:
    """Record a request for a password-reset e-mail.

    The same work whatever the address: the request is recorded, and nothing here looks for an
    account, so neither the answer nor its timing says whether the address has one. The outbox
    job (``notifications.password_resets.mail_password_resets``) writes the e-mail for an active account. An address is sent
    at most ``MAX_RESETS_PER_EMAIL`` e-mails an hour: further requests are quietly not recorded
    (the same answer, so it reveals nothing either). A client that asks more than
    ``MAX_RESETS_PER_IP`` times an hour is refused with ``TooManyResetRequests``. A command: its own unit of work (``core/db.py``).
    """
    with atomic(session):
        email = normalise_email(email)[:254]
        ip_address = ip_address[:64]
        since = now - RESET_LIMIT_WINDOW
        from_client = session.scalars(
            select(PasswordResetRequest.requested_at)
            .where(PasswordResetRequest.ip_address == ip_address, PasswordResetRequest.requested_at > since)
            .order_by(PasswordResetRequest.requested_at.desc())
            .limit(MAX_RESETS_PER_IP)
        ).all()
        if len(from_client) >= MAX_RESETS_PER_IP:
            raise TooManyResetRequests(from_client[-1] + RESET_LIMIT_WINDOW - now)
        for_address = (
            session.scalar(
                select(func.count()).where(
                    PasswordResetRequest.email == email, PasswordResetRequest.requested_at > since
                )
            )
            or 0
        )
        # Over the address's limit the request still counts against the client (so guessing many
        # addresses from one client stays limited), but is marked handled: no e-mail.
        session.add(
            PasswordResetRequest(
                email=email,
                ip_address=ip_address,
                requested_at=now,
                handled_at=now if for_address >= MAX_RESETS_PER_EMAIL else None,
            )
        )
        # Old rows are no use: keep the table small.
        session.execute(
            delete(PasswordResetRequest).where(
                PasswordResetRequest.requested_at < now - RESET_LIMIT_WINDOW * 24
            )
        )


# --- Single sign-on ---------------------------------------------------------------------------


def user_for_single_sign_on(session: Session, remote_user: str) -> User | None:
    """The active account whose email is the identity the university's SSO asserts (such as an
    eduPersonPrincipalName like jo.bloggs@example.ac.uk). No account is created: admins add people."""
    remote_user = (remote_user or "").strip()
    if not remote_user or "@" not in remote_user:
        return None
    user = find_user_by_email(session, remote_user)
    return user if user is not None and user.active else None
