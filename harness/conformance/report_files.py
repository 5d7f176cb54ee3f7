"""The files of a conformance report directory: pytest writes the first two, :mod:`.report` reads them
and writes the summaries. A module of its own so the runner and the report both import it instead of
each other."""

JUNIT_FILE, CUCUMBER_FILE = "junit.xml", "cucumber.json"
MARKDOWN_FILE, HTML_FILE = "summary.md", "summary.html"
REPORT_FILES = (MARKDOWN_FILE, HTML_FILE)  # what report.write_summary writes, in the order the CLI names them
