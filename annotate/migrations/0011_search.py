from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("annotate", "0010_jobs")]

    operations = []
