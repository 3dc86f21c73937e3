@vendor @stringee
Feature: Stringee rules (seed 002), under the stringee profile
  One scenario per rule of Stringee's StringeeCall (docs/model.md §5, rules 20-31; makeCall's
  codes 1-8 and answer's r=3 are account and server states no call lifecycle reaches). Stringee's result code r=1 maps to 404 and r=2 to 409.

  Background:
    Given the dialect is "stringee"
    And user alice with devices phone and tablet
    And users bob and carol
    And user pstn-555 with devices line
    And pstn-555 is a phone number

  Scenario Outline: stringee.not-exist-code-1 — <call> on a call that does not exist is r=1 (404)
    Given bob calls carol
    When alice <operation> call-9
    Then it fails with 404
    And nobody sees anything more

    Examples:
      | call   | operation |
      | answer | accepts   |
      | reject | declines  |
      | hangup | hangs up  |

  Scenario Outline: stringee.other-device-code-2 — <call> on a call handled on another device is r=2 (409)
    Given bob calls alice
    And alice/phone accepts
    When alice/tablet <operation>
    Then it fails with 409 saying "handled on another device"
    And nobody sees anything more

    Examples:
      | call   | operation |
      | answer | accepts   |
      | reject | declines  |
      | hangup | hangs up  |

  Scenario: stringee.ringing — ringing() tells the caller
    When bob calls carol
    Then carol sees "call-1: incoming Audio call from bob"
    And bob sees:
      """
      call-1: carol ringing
      call-1: status ringing
      """

  Scenario: stringee.transfer-app-phone-only — app to phone may be transferred
    Given bob calls pstn-555
    And pstn-555 accepts
    When bob transfers the call to carol
    Then pstn-555 sees:
      """
      call-1: bob transferring to carol
      call-1: carol ringing
      """
    And carol sees "call-1: incoming Audio call from bob (transferred by bob)"

  Scenario: stringee.transfer-app-phone-only — app to app is not transferred (403)
    Given bob calls carol
    And carol accepts
    When bob transfers the call to alice
    Then it fails with 403 saying "app-to-phone or phone-to-app"
    And nobody sees anything more

  Scenario: stringee.hold-unhold — hold and resume
    Given bob calls carol
    And carol accepts
    When bob holds the call
    Then carol sees "call-1: bob held the call"
    When bob resumes the call
    Then carol sees "call-1: bob resumed the call"

  Scenario: stringee.send-dtmf — sendDtmf sends the pressed keys
    Given bob calls carol
    And carol accepts
    When bob sends DTMF "123#"
    Then carol sees "call-1: DTMF \"123#\" from bob"

  Scenario: stringee.send-info-json — sendInfo reaches the other side
    Given bob calls carol
    And carol accepts
    When bob sends info "application/json" with body "[1,2]"
    Then carol sees "call-1: info application/json (5 B) from bob"

  Scenario: stringee.answered-on-another-device — the other devices learn the call was answered elsewhere
    Given bob calls alice
    When alice/phone accepts
    Then alice/tablet sees "call-1: detached, answered on another device"
    And bob sees:
      """
      call-1: alice joined
      call-1: status connecting
      call-1: status connected
      """
    And alice/phone sees:
      """
      call-1: status connecting
      call-1: status connected
      """

  Scenario: stringee.hangup-releases — hangup ends the call and frees both sides for the next
    Given bob calls carol
    And carol accepts
    When bob hangs up
    Then bob and carol see "call-1: ended, hung up by bob"
    And the call is ended
    When alice/phone calls carol
    Then carol sees "call-2: incoming Audio call from alice"
    And alice/phone sees:
      """
      call-2: carol ringing
      call-2: status ringing
      """

  Scenario: stringee.custom-data — custom data travels with the call to the callee
    When bob places a call with:
      | to          | carol         |
      | custom data | {"order": 42} |
    Then the invitation carol received has:
      | info.custom_data | {"order": 42} |
    And carol sees "call-1: incoming Audio call from bob"
    And bob sees:
      """
      call-1: carol ringing
      call-1: status ringing
      """
