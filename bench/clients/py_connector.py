#!/usr/bin/env python3
"""mysql-connector-python, pure-Python implementation (use_pure=True).

    py_connector.py ...             text protocol, literal SQL
    py_connector.py --prepared ...  cursor(prepared=True): COM_STMT_PREPARE /
                                    EXECUTE with the script's `?` templates
                                    (one prepared cursor per distinct
                                    statement: the cursor keeps only one
                                    statement and re-prepares for another)
"""
import sys

import mysql.connector

from common import run_dbapi

prepared = "--prepared" in sys.argv
if prepared:
    sys.argv.remove("--prepared")


def connect(a):
    return mysql.connector.connect(host=a.host, port=a.port, user=a.user, password=a.password,
                                   database=a.db, charset="utf8mb4", autocommit=True,
                                   use_pure=True)


if __name__ == "__main__":
    if prepared:
        run_dbapi("connector-prepared", connect, cursor_kw={"prepared": True}, use_tmpl=True,
                  cursor_per_template=True)
    else:
        run_dbapi("connector", connect)
