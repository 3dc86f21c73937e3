@vendor @stringee
Feature: Stringee rules (seed 002), under the stringee profile
  One scenario per rule of Stringee's StringeeCall that today's steps can express
  (docs/model.md §5, rules 20-31). Stringee's result code r=1 maps to 404 and r=2 to 409.

  Background:
    Given the dialect is "stringee"
    And user alice with devices phone and tablet
    And users bob and carol
    And user pstn-555 with devices line
    And pstn-555 is a phone number

  Scenario: stringee.not-exist-code-1 — answering a call that does not exist is r=1 (404)
    Given bob calls carol
    When alice accepts call-9
    Then it fails with 404

  Scenario: stringee.other-device-code-2 — answering a call handled on another device is r=2 (409)
    Given bob calls alice
    And alice/phone accepts
    When alice/tablet accepts
    Then it fails with 409

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
