from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("annotate", "0009_assistance")]

    operations = []
