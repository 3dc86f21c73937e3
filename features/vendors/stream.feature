@vendor @stream
Feature: Stream rules (seed 004), under the stream profile
  One scenario per rule of Stream Video's ringing calls (docs/model.md §5, rules 63-77). The
  several-calls rule is the app's choice in Stream: call waiting on is an app that joins several
  calls, off one that leaves the others first.

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

  Scenario: stream.caller-in-members — the caller is in the call's members
    Given alice calls bob
    When bob asks for the state of the call
    Then the reply has:
      | caller          | alice   |
      | members.0.user  | alice   |
      | members.0.state | calling |
      | members.1.user  | bob     |
      | members.1.state | ringing |

  Scenario: stream.leave-after-join-keeps-going — one leaving after joining does not stop the others
    Given alice places an audio call in team to bob and carol
    And bob accepts
    And carol accepts
    When bob hangs up
    Then bob sees "call-1: detached, left"
    And alice and carol see "call-1: bob left"
    And the call is connected
    When carol sets custom data "still here"
    Then alice sees "call-1: custom data "still here" from carol"

  Scenario: stream.several-calls — a user may be in several calls; a one-call app leaves the others first
    Given bob has call waiting
    And alice calls bob
    And bob accepts
    When carol calls bob
    Then bob sees "call-2: incoming Audio call from carol"
    And carol sees:
      """
      call-2: bob ringing
      call-2: status ringing
      """
    When bob accepts call-2
    Then bob sees:
      """
      call-2: status connecting
      call-2: status connected
      """
    And carol sees:
      """
      call-2: bob joined
      call-2: status connecting
      call-2: status connected
      """
    And call-1 is connected
    And call-2 is connected
    When bob hangs up call-1
    Then alice and bob see "call-1: ended, hung up by bob"
    And call-2 is connected

  Scenario: stream.ring-flag — ring rings each member
    When alice places an audio call in team to bob and carol
    Then bob and carol see "call-1: incoming group Audio call in team from alice"
    And alice sees, in any order:
      """
      call-1: bob ringing
      call-1: status ringing
      call-1: carol ringing
      """

  Scenario: stream.incoming-outgoing-by-creator — a ringing call is incoming to members, outgoing to its creator
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    And alice's state in the call is calling
    And bob's state in the call is ringing

  Scenario: stream.cancel-stops-signaling — the caller's cancel stops the call for every member
    Given alice places an audio call in team to bob and carol
    When alice cancels
    Then alice, bob and carol see "call-1: ended, cancelled by alice"
    And the call is ended
    When bob accepts call-1
    Then it fails with 410

  Scenario: stream.decline-by-leave — leave({reject, reason: decline}) declines
    Given alice calls bob
    When bob declines
    Then alice and bob see "call-1: ended, declined by bob (603)"
    And the end code of the call is 603

  Scenario: stream.join-accepts — a ringing callee accepts by joining
    Given alice places an audio call in team to bob and carol
    When bob joins the call
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
    And bob's state in the call is joined

  Scenario: stream.creation-options — custom data given at creation reaches the members
    When alice places a call with:
      | to          | bob            |
      | custom data | {"topic": "q3"} |
    Then the invitation bob received has:
      | info.custom_data | {"topic": "q3"} |
    And bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
