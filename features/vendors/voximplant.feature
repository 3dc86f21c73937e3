@vendor @voximplant
Feature: Voximplant rules (seed 003), under the voximplant profile
  One scenario per rule of Voximplant's VoxEngine Call (docs/model.md §5, rules 33-62), with its
  limits at and one over the boundary; the one inbound audio stream is a media scenario
  (features/media/vendors/voximplant.feature). VoxEngine's media services (playback, say, record,
  progress tones) and its application session are not part of the call lifecycle modelled here.

  Background:
    Given the dialect is "voximplant"

  Scenario: voximplant.x-header-prefix — a header name without X- is refused with 400
    Given users alice, bob and carol
    When alice places a call with:
      | to     | bob         |
      | header | Ticket: 77  |
    Then it fails with 400 saying "must start with X-"
    And nobody sees anything more

  Scenario: voximplant.custom-data-200 — 200 bytes of custom data are relayed
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice sets custom data of 200 bytes
    Then the last event bob saw has:
      | event | custom_data |
      | from  | alice       |
    And bob sees "call-1: custom data "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr" from alice"

  Scenario: voximplant.custom-data-200 — 201 bytes of custom data are refused with 413
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice sets custom data of 201 bytes
    Then it fails with 413 saying "over the limit of 200"
    And nobody sees anything more

  Scenario Outline: voximplant.send-info-8192 — an INFO body of <bytes> bytes: <outcome>
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice sends info "text/plain" of <bytes> bytes
    Then <check>

    Examples:
      | bytes | outcome | check                                                    |
      | 8192  | relayed | bob sees "call-1: info text/plain (8192 B) from alice"   |
      | 8193  | 413     | it fails with 413 saying "over the limit of 8192"        |

  Scenario Outline: voximplant.send-message-8192 — a message of <bytes> bytes: <outcome>
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice sends a message of <bytes> bytes
    Then <check>

    Examples:
      | bytes | outcome | check                                               |
      | 8192  | relayed | bob sees "call-1: message (8192 B) from alice"      |
      | 8193  | 413     | it fails with 413 saying "over the limit of 8192"   |

  Scenario Outline: voximplant.reject-sip-code — reject with <code>: <outcome>
    Given users alice, bob and carol
    And alice calls bob
    When bob declines with <code>
    Then <check>

    Examples:
      | code | outcome  | check                                             |
      | 300  | declined | alice and bob see "call-1: ended, declined by bob (300)" |
      | 699  | declined | alice and bob see "call-1: ended, declined by bob (699)" |
      | 299  | 400      | it fails with 400 saying "300-699"                |
      | 700  | 400      | it fails with 400 saying "300-699"                |

  Scenario: voximplant.hangup-disconnected-or-failed — hangup before connecting is a failure (487)
    Given users alice, bob and carol
    And alice calls bob
    When alice hangs up
    Then alice and bob see "call-1: ended, cancelled by alice"
    And the end code of the call is 487

  Scenario: voximplant.hangup-disconnected-or-failed — hangup when connected disconnects (200)
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice hangs up
    Then alice and bob see "call-1: ended, hung up by alice"
    And the end code of the call is 200

  Scenario: voximplant.early-media-60s — an unanswered call stays in early media at most 60 s
    Given users alice, bob and carol
    And alice calls bob
    And bob starts early media
    When 59999 ms pass
    Then nobody sees anything
    When 1 ms passes
    Then alice and bob see "[60s] call-1: ended, no answer"

  Scenario: voximplant.blind-transfer-result — the initiator is told the result, app to app too
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    And alice transfers the call to carol
    When carol accepts
    Then alice sees:
      """
      call-1: transfer to carol: succeeded
      call-1: detached, transferred
      """
    And bob sees:
      """
      call-1: alice transferred
      call-1: carol joined
      """

  Scenario: voximplant.dtmf-digits — sendDigits takes 0-9 * # p and nothing else
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice sends DTMF "0123456789*#p"
    Then bob sees "call-1: DTMF \"0123456789*#p\" from alice"
    When alice sends DTMF "A"
    Then it fails with 400 saying "(0-9 * # p)"

  Scenario: voximplant.x-headers-on-messages — answer(extraHeaders) carries X- headers to the caller
    Given users alice, bob and carol
    And alice calls bob
    When bob accepts with the headers:
      | X-Ticket | 77    |
      | X-Queue  | sales |
    Then alice sees:
      """
      call-1: headers from bob with accept: X-Ticket: 77; X-Queue: sales
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob sees:
      """
      call-1: status connecting
      call-1: status connected
      """

  Scenario: voximplant.x-headers-on-messages — reject(code, extraHeaders) carries X- headers to the caller
    Given users alice, bob and carol
    And alice calls bob
    When bob declines with 486 with the headers:
      | X-Reason | in a meeting |
    Then alice sees:
      """
      call-1: headers from bob with decline: X-Reason: in a meeting
      call-1: ended, declined by bob (486)
      """
    And bob sees "call-1: ended, declined by bob (486)"

  Scenario: voximplant.x-headers-on-messages — hangup(extraHeaders) carries X- headers to the other side
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice hangs up with the headers:
      | X-Survey | yes |
    Then bob sees:
      """
      call-1: headers from alice with hangup: X-Survey: yes
      call-1: ended, hung up by alice
      """
    And alice sees "call-1: ended, hung up by alice"

  Scenario: voximplant.x-headers-on-messages — startEarlyMedia(extraHeaders) carries X- headers to the caller
    Given users alice, bob and carol
    And alice calls bob
    When bob starts early media with the headers:
      | X-Prompt | hold-music |
    Then alice sees:
      """
      call-1: headers from bob with early_media: X-Prompt: hold-music
      call-1: early media from bob
      """

  Scenario: voximplant.x-headers-on-messages — sendInfo(mimeType, body, headers) carries X- headers
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice sends info "application/json" with body "{}" with the headers:
      | X-Seq | 1 |
    Then bob sees:
      """
      call-1: headers from alice with info: X-Seq: 1
      call-1: info application/json (2 B) from alice
      """

  Scenario: voximplant.x-headers-on-messages — ring(extraHeaders) carries X- headers to the caller
    Given devices do not acknowledge ringing automatically
    And users alice, bob and carol
    And alice calls bob
    When bob acknowledges ringing with the headers:
      | X-Device | desk phone |
    Then alice sees:
      """
      call-1: headers from bob with ringing: X-Device: desk phone
      call-1: bob ringing
      call-1: status ringing
      """

  Scenario: voximplant.x-headers-on-messages — a header without X- is refused with 400 and changes nothing
    Given users alice, bob and carol
    And alice calls bob
    When bob accepts with the headers:
      | Ticket | 77 |
    Then it fails with 400 saying "must start with X-"
    And nobody sees anything
    And the call is ringing
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob sees:
      """
      call-1: status connecting
      call-1: status connected
      """

  Scenario: voximplant.custom-data-set-get — custom data is set, replaced and read back
    Given users alice, bob and carol
    And alice places a call with:
      | to          | bob      |
      | custom data | ticket-1 |
    And bob accepts
    When bob asks for the state of the call
    Then the reply has:
      | custom_data | ticket-1 |
    When alice sets custom data "ticket-2"
    Then bob sees "call-1: custom data "ticket-2" from alice"
    When bob asks for the state of the call
    Then the reply has:
      | custom_data | ticket-2 |

  Scenario: voximplant.reject-disconnects-at-once — reject ends the call for both at that moment
    Given users alice, bob and carol
    And alice calls bob
    And 5 seconds pass
    When bob declines with 486
    Then alice and bob see "[5s] call-1: ended, declined by bob (486)"
    And the call is ended

  Scenario: voximplant.state-values — state() goes ALERTING, CONNECTED, TERMINATED
    Given users alice, bob and carol
    When alice calls bob
    Then the call is ringing
    And bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When bob accepts
    Then the call is connected
    And alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob sees:
      """
      call-1: status connecting
      call-1: status connected
      """
    When alice hangs up
    Then the call is ended
    And alice and bob see "call-1: ended, hung up by alice"

  Scenario: voximplant.decline-deprecated — reject, decline's replacement, declines with its code
    Given users alice, bob and carol
    And alice calls bob
    When bob declines with 603
    Then alice and bob see "call-1: ended, declined by bob (603)"
    And the end code of the call is 603

  Scenario: voximplant.incoming-flag — incoming() tells the inbound call from the one placed
    Given users alice, bob and carol
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And the last event bob saw has:
      | event       | incoming |
      | info.caller | alice    |
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """

  Scenario: voximplant.call-id-unique — each call has its own id
    Given users alice, bob, carol and dave
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When carol calls dave
    Then dave sees "call-2: incoming Audio call from carol"
    And carol sees:
      """
      call-2: dave ringing
      call-2: status ringing
      """
