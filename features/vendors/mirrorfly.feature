@vendor @mirrorfly
Feature: MirrorFly rules (seed 000), under the mirrorfly profile
  One scenario per rule of the MirrorFly web call SDK (docs/model.md §5, rules 1-10); the track
  listener's rules are media scenarios (features/media/vendors/mirrorfly.feature).

  Background:
    Given the dialect is "mirrorfly"
    And users alice, bob and carol
    And a group team of alice, bob and carol

  Scenario: mirrorfly.plan-one-to-one-403 — a 1:1 call the plan does not include fails with 403
    Given alice's plan excludes 1:1 audio
    When alice calls bob
    Then it fails with 403 saying "1:1 audio calls"
    And nobody sees anything more

  Scenario: mirrorfly.plan-group-403 — a group call the plan does not include fails with 403
    Given alice's plan excludes group calls
    When alice places an audio call in team to bob and carol
    Then it fails with 403 saying "group calls"

  Scenario: mirrorfly.status-sequence — calling, ringing, connecting, connected
    When alice calls bob
    Then the call is ringing
    And bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
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

  Scenario: mirrorfly.incoming-payload — a 1:1 invitation has no group
    When alice places a video call to bob
    Then the invitation bob received has:
      | info.call_type | video   |
      | info.group     | none    |
      | info.caller    | alice   |
      | info.invitees  | bob     |
      | info.status    | calling |
    And bob sees "call-1: incoming Video call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """

  Scenario: mirrorfly.incoming-payload — a group invitation names its group and users
    When alice places an audio call in team to bob and carol
    Then the invitation carol received has:
      | info.group    | team       |
      | info.invitees | bob, carol |
    And bob and carol see "call-1: incoming group Audio call in team from alice"
    And alice sees, in any order:
      """
      call-1: bob ringing
      call-1: status ringing
      call-1: carol ringing
      """

  Scenario: mirrorfly.incoming-payload — every field of incomingCallListener's payload, by its MirrorFly name
    Given 3 seconds pass
    When alice places a video call in team to bob and carol
    Then the invitation bob received has, in the dialect's names:
      | callTime | 3000       |
      | callType | video      |
      | groupId  | team       |
      | roomId   | 1          |
      | status   | calling    |
      | toUsers  | bob, carol |
      | userJid  | alice      |
    And bob and carol see "call-1: incoming group Video call in team from alice"
    And alice sees, in any order:
      """
      call-1: bob ringing
      call-1: status ringing
      call-1: carol ringing
      """

  Scenario: mirrorfly.no-hold-dtmf-transfer — what MirrorFly lacks is refused with 501
    Given alice calls bob
    And bob accepts
    Then alice is refused every operation the dialect lacks
    And nobody sees anything more

  Scenario: mirrorfly.status-to-caller — the caller's status listener hears the callee's status
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When bob declines
    Then alice and bob see "call-1: ended, declined by bob (603)"

  Scenario Outline: mirrorfly.response-status-code — a refused method answers a code and a message: <case>
    Given alice calls bob
    When <operation>
    Then it fails with <code> saying "<message>"
    And nobody sees anything more

    Examples:
      | case               | operation                 | code | message                   |
      | no such call       | bob accepts call-9        | 404  | no such call              |
      | not a member       | carol hangs up call-1     | 403  | not a member of the call  |
      | not the caller     | bob cancels call-1        | 403  | only the caller may cancel |
