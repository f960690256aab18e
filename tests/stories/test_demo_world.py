"""The story fixture itself: each test gets the seeded demo university, served, of its own."""

from sqlalchemy import func, select

from inventory.models import Asset


def test_a_technician_signs_in_to_the_served_demo_and_finds_equipment(demo):
    page = demo.page(sign_in="tom.whitfield")
    page.get_by_role("link", name="Find equipment").click()
    assert page.locator("main").get_by_role("link").count() > 10
    with demo.session() as session:
        assert session.scalar(select(func.count()).select_from(Asset)) > 100
