# expect: the assertion of Cairn's command-line tests (sourced by tests/*/..._cli_test.sh).
#
#   expect WHAT WANT_STATUS GREP_PATTERN -- command...
#   ...
#   expect_summary    # prints the counts; its status is the test's
#
# A case passes when the command exits WANT_STATUS and its output (stdout and stderr) matches
# the extended regular expression GREP_PATTERN; a failure prints the command's first lines.
fails=0
passes=0
expect() {
  local what=$1 want=$2 pattern=$3; shift 4
  local out status
  out=$("$@" 2>&1); status=$?
  if [ "$status" != "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $what (status $status, want $want; pattern '$pattern')"; echo "$out" | head -20
    fails=$((fails + 1))
  else
    passes=$((passes + 1))
  fi
}

expect_summary() {
  echo "$passes passed, $fails failed"
  [ "$fails" = 0 ]
}
