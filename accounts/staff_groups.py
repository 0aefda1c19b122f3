"""Granting the staff groups their permissions, for the apps' data migrations.

Permissions are normally created after all migrations have run; a data migration that grants
them must create them first. Every app's permissions migration calls these two functions."""


def grant(apps, app_label: str, group_permissions: dict[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in group_permissions.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )


def revoke(apps, app_label: str, group_names: list[str]) -> None:  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=group_names):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label))
