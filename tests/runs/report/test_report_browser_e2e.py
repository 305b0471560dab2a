"""A generated report in headless Chromium: every section renders with its plots, and the page
requests nothing from the network (its Content-Security-Policy aside, checked in Chromium's own
net log against a control page that does make requests)."""

import json
import re
import subprocess

import pytest

from runs.report import html
from tests.runs.report import fixtures
from tests.runs.report import stores

# Flags for a quiet, offline, throwaway browser (and no network-time query of its own).
_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--disable-features=NetworkTimeServiceQuerying')
_BROWSER_INTERNAL = 'not an origin'  # net log initiator of Chromium's own requests (updates)


def _chromium(binary, profile, *args, timeout=180):
  result = subprocess.run([binary, *_FLAGS, f'--user-data-dir={profile}', *args],
                          capture_output=True, text=True, timeout=timeout, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  return result


def _page_requests(net_log) -> list:
  """URLs the page asked for over the network: requests whose initiator is a page (a file://
  page's origin is 'null'), not Chromium itself. file:// loads never reach the net log."""
  log = json.loads(net_log.read_text())
  start_job = log['constants']['logEventTypes']['URL_REQUEST_START_JOB']
  return [event['params']['url'] for event in log['events']
          if event['type'] == start_job and 'url' in event.get('params', {})
          and event['params'].get('initiator') != _BROWSER_INTERNAL]


@pytest.mark.e2e
def test_report_renders_every_section_in_chromium_and_requests_nothing(
    chromium, home, uris, tmp_path):
  stores.mlmd_home(home, uris)
  page = stores.write_report(fixtures.summary(), home)
  text = page.read_text()
  assert not re.search(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', text)

  screenshot = tmp_path / 'report.png'
  _chromium(chromium, tmp_path / 'profile-shot', f'--screenshot={screenshot}',
            '--window-size=1280,4000', page.as_uri())
  print(f'screenshot: {screenshot}')  # pytest -s shows where to look
  from PIL import Image  # pylint: disable=import-outside-toplevel; matplotlib's dependency
  with Image.open(screenshot) as image:
    assert image.size == (1280, 4000)
    assert len(image.convert('RGB').getcolors(maxcolors=1 << 20) or []) > 50  # not blank

  net_log = tmp_path / 'net-log.json'
  dom = _chromium(chromium, tmp_path / 'profile-dom', f'--log-net-log={net_log}',
                  '--dump-dom', page.as_uri()).stdout
  assert re.findall(r'<section id="(\w+)">', dom) == [key for key, _ in html.SECTIONS]
  for key, _ in html.SECTIONS:
    section = dom.split(f'<section id="{key}">', 1)[1].split('</section>', 1)[0]
    assert '<svg' in section, f'section {key!r} has no plot'
  # timeline, fare, company, drift, loss, binary_accuracy, input wait, evaluation, and the binary
  # task's own: its ROC curve and confusion matrix
  assert dom.count('<svg') == 10
  assert _page_requests(net_log) == []

  # The check sees a page's requests: a control page that asks for an image and a font.
  control = tmp_path / 'control.html'
  control.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/x.png">'
                     '<link rel="stylesheet" href="https://fonts.example.com/a.css">')
  control_log = tmp_path / 'control-net-log.json'
  _chromium(chromium, tmp_path / 'profile-control', f'--log-net-log={control_log}',
            '--dump-dom', control.as_uri())
  assert sorted(_page_requests(control_log)) == [
      'http://127.0.0.1:9/x.png', 'https://fonts.example.com/a.css']
