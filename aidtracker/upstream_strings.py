"""Messages of Django itself that our catalogue (looked up before Django's) translates or re-translates.

Never imported: `makemessages` reads these msgids so that `tools/i18n_merge.py update` keeps them in
locale/. They are either missing from Django's zh_Hans catalogue (the admin's table headers for screen
readers, new in Django 5.1, and the user-add page's help) or translated with English words left in
("Control", "Command", "Mac", "LDAP"; the sessions app in zh_Hant).
"""

from django.utils.translation import gettext_noop

UPSTREAM = [
    # django.contrib.admin, app_list.html: hidden table headers, read by screen readers.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # django.contrib.admin, auth/user/add_form.html and login/password pages.
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
    # django.contrib.sessions: left in English in Django's zh_Hant ("session 資料").
    gettext_noop("Sessions"),
    gettext_noop("session"),
    gettext_noop("sessions"),
    gettext_noop("session key"),
    gettext_noop("session data"),
    # Translated by Django with English key and product names in them.
    gettext_noop("Hold down “Control”, or “Command” on a Mac, to select more than one."),
    gettext_noop(
        "Whether the user will be able to authenticate using a password or not. If disabled, they may still "
        "be able to authenticate using other backends, such as Single Sign-On or LDAP."
    ),
]
