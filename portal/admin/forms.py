"""Forms for managing people."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from portal.forms import language_choices
from portal.models import Role
from portal.once import OnceForm

ROLE_LABELS = {
    Role.ADMIN: _l("Agency admin"),
    Role.MANAGER: _l("Account manager"),
    Role.CLIENT: _l("Client user"),
}


class InviteForm(OnceForm):
    """Invite a member of staff, or a client user (then a client is required)."""

    name = StringField(_l("Name"), validators=[Length(max=120)])
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter an email address.")), Email(_l("Enter a valid email address.")), Length(max=254)],
    )
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()], default="manager")
    client_id = SelectField(_l("Client organisation"), coerce=int, description=_l("Only for client users."))
    language = SelectField(_l("Language of the invitation"), choices=language_choices())


class RoleForm(FlaskForm):
    """Change a staff member's role."""

    role = SelectField(_l("Role"), choices=[(Role.ADMIN.value, ROLE_LABELS[Role.ADMIN]), (Role.MANAGER.value, ROLE_LABELS[Role.MANAGER])])


class AgencySettingsForm(FlaskForm):
    """The agency's settings: for now, whether staff must use two-factor sign-in."""

    staff_two_factor_required = BooleanField(
        _l("Staff must use two-factor sign-in"),
        description=_l("Admins and account managers without it are logged out and set it up at their next login. Client users choose for themselves."),
    )
