from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("annotate", "0011_search")]

    operations = []
