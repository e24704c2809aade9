from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("export/", views.export_start, name="export"),
    path("import/", views.import_users, name="import"),
    path("<str:job_id>/", views.job_detail, name="detail"),
    path("<str:job_id>/status.json", views.job_status, name="status"),
    path("<str:job_id>/retry/", views.job_retry, name="retry"),
]
