import factory

from subjects.models import SubjectGroup


class SubjectGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubjectGroup

    name = factory.Sequence(lambda n: f"Subject {n}")
