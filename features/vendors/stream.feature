@vendor @stream
Feature: Stream rules (seed 004), under the stream profile
  One scenario per rule of Stream Video's ringing calls that today's steps can express
  (docs/model.md §5, rules 63-77).

  Background:
    Given the dialect is "stream"
    And users alice, bob and carol
    And a group team of alice, bob and carol

  Scenario: stream.caller-auto-joins — the caller joins when the first callee accepts
    Given alice calls bob
    When bob accepts
    Then alice's state in the call is joined
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

  Scenario: stream.stops-when-all-reject — every callee rejecting stops the call
    Given alice places an audio call in team to bob and carol
    And bob declines
    When carol declines
    Then alice and carol see "call-1: ended, declined by carol (603)"
    And the call is ended

  Scenario: stream.cancel-until-first-accept — no cancel after the first accept
    Given alice places an audio call in team to bob and carol
    And bob accepts
    When alice cancels
    Then it fails with 422

  Scenario: stream.notify-flag — notify instead of ring
    When alice notifies bob of an audio call
    Then bob sees "call-1: notified of a call by alice"
    And the call is connecting

  Scenario: stream.end-call-permission — endCall needs the permission, the creator's too
    Given alice calls bob
    And bob accepts
    When alice ends the call for everyone
    Then it fails with 403
    Given alice may end calls for everyone
    When alice ends the call for everyone
    Then alice and bob see "call-1: ended, ended for everyone by alice"
