"""SQLAlchemy 2.x ORM on PyMySQL over the wire.

SQLAlchemy probes the server on its first connection (VERSION(), DATABASE(),
@@transaction_isolation, @@sql_mode, @@lower_case_table_names), sets
CLIENT_FOUND_ROWS (UPDATE must report matched rows, or the ORM raises
StaleDataError), reads lastrowid for autoincrement keys and relies on error
1146 from DESCRIBE for `has_table`."""

from typing import Optional

import pytest
from sqlalchemy import ForeignKey, String, delete, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    email: Mapped[Optional[str]] = mapped_column(String(100), unique=True)
    balance: Mapped[int] = mapped_column(default=0)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(String(200))


@pytest.fixture
def orm(engine):
    Base.metadata.create_all(engine)
    return engine


def count_users(engine):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(User))


def test_dialect_sees_mysql_not_mariadb(engine):
    with engine.connect() as c:
        assert c.execute(text("SELECT 1")).scalar() == 1
    assert engine.dialect.name == "mysql"
    assert not engine.dialect.is_mariadb
    assert engine.dialect.server_version_info[:3] == (8, 0, 11)


def test_has_table(orm):
    insp = inspect(orm)
    assert insp.has_table("users")
    assert insp.has_table("notes")
    assert not insp.has_table("no_such_table")
    assert set(insp.get_table_names()) >= {"users", "notes"}


def test_add_commit_query(orm):
    with Session(orm) as s:
        alice = User(name="alice", email="alice@example.com", balance=100)
        bob = User(name="bob", email="bob@example.com")
        s.add_all([alice, bob])
        s.commit()
        # Autoincrement ids come back through the OK packet's last insert id.
        assert (alice.id, bob.id) == (1, 2)
        s.add(Note(user_id=alice.id, body="it's alice's note — ünïcödé"))
        s.commit()

    with Session(orm) as s:
        got = s.scalars(select(User).where(User.name == "alice")).one()
        assert (got.id, got.email, got.balance) == (1, "alice@example.com", 100)
        names = s.scalars(select(User.name).order_by(User.name.desc())).all()
        assert names == ["bob", "alice"]
        assert s.get(User, 2).balance == 0
        note = s.scalars(select(Note).where(Note.user_id == 1)).one()
        assert note.body == "it's alice's note — ünïcödé"
        assert s.scalar(select(func.sum(User.balance))) == 100


def test_update_rowcount_counts_matched_rows(orm):
    with Session(orm) as s:
        s.add_all([User(name="a", balance=1), User(name="b", balance=1), User(name="c", balance=2)])
        s.commit()
    with Session(orm) as s:
        # Unchanged values still count: SQLAlchemy sets CLIENT_FOUND_ROWS.
        r = s.execute(update(User).where(User.balance == 1).values(balance=1))
        assert r.rowcount == 2
        r = s.execute(update(User).where(User.name == "c").values(balance=User.balance + 10))
        assert r.rowcount == 1
        s.commit()
    with Session(orm) as s:
        c = s.scalars(select(User).where(User.name == "c")).one()
        c.name = "c2"  # ORM unit-of-work UPDATE checks the matched count
        c.balance = 12  # same value as stored
        s.commit()
    with Session(orm) as s:
        assert s.execute(select(User.name, User.balance).order_by(User.id)).all() == [
            ("a", 1),
            ("b", 1),
            ("c2", 12),
        ]


def test_delete(orm):
    with Session(orm) as s:
        s.add_all([User(name=f"u{i}") for i in range(5)])
        s.commit()
    with Session(orm) as s:
        u = s.scalars(select(User).where(User.name == "u0")).one()
        s.delete(u)
        s.commit()
        r = s.execute(delete(User).where(User.name.in_(["u1", "u2"])))
        assert r.rowcount == 2
        s.commit()
    with Session(orm) as s:
        assert s.scalars(select(User.name).order_by(User.id)).all() == ["u3", "u4"]


def test_rolled_back_transaction(orm):
    with Session(orm) as s:
        s.add(User(name="keep"))
        s.commit()
    with Session(orm) as s:
        s.add(User(name="discard"))
        s.flush()  # the INSERT reached the server inside the transaction
        assert s.scalar(select(func.count()).select_from(User)) == 2
        s.rollback()
    assert count_users(orm) == 1

    # An exception inside engine.begin() rolls the whole block back.
    with pytest.raises(RuntimeError):
        with orm.begin() as c:
            c.execute(text("INSERT INTO users (name, balance) VALUES ('x', 1)"))
            c.execute(text("UPDATE users SET balance = 99"))
            raise RuntimeError("abort")
    with Session(orm) as s:
        assert s.execute(select(User.name, User.balance)).all() == [("keep", 0)]


def test_integrity_error_rolls_back_the_session(orm):
    with Session(orm) as s:
        s.add(User(name="a", email="same@example.com"))
        s.commit()
    with Session(orm) as s:
        s.add(User(name="b", email="same@example.com"))
        with pytest.raises(IntegrityError) as info:
            s.commit()
        assert info.value.orig.args[0] == 1062
        s.rollback()
        assert s.scalar(select(func.count()).select_from(User)) == 1
