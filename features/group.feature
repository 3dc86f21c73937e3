@group
Feature: Group calls
  A group call is placed in a group (MirrorFly groupId, CometChat receiver type GROUP) or to
  several users at once (Stream members). Every reachable invitee rings; the caller joins as soon as
  the first invitee accepts; later invitees join the running call; the call goes on while two or
  more members remain.

  Background:
    Given users alice, bob, carol and dave
    And a group team of alice, bob, carol and dave

  Scenario: Everyone rings, the first accept connects the call and the second joins it
    When alice places an audio call in team to bob and carol
    Then bob and carol see "call-1: incoming group Audio call in team from alice"
    And alice sees, in any order:
      """
      call-1: bob ringing
      call-1: status ringing
      call-1: carol ringing
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
    And carol sees nothing more
    When carol accepts
    Then alice and bob see "call-1: carol joined"
    And carol sees nothing more
    And carol's state in the call is joined
    And the call is connected

  Scenario: The group invitation names the group and every invitee; the caller is a member
    When alice places a video call in team to bob, carol and dave
    Then the invitation carol received has:
      | info.call_type | video           |
      | info.group     | team            |
      | info.caller    | alice           |
      | info.invitees  | bob, carol, dave |
      | info.status    | calling         |
    And bob, carol and dave see "call-1: incoming group Video call in team from alice"
    And alice sees, in any order:
      """
      call-1: bob ringing
      call-1: status ringing
      call-1: carol ringing
      call-1: dave ringing
      """
    When dave asks for the state of the call
    Then the reply has:
      | caller          | alice   |
      | group           | team    |
      | status          | ringing |
      | members.0.user  | alice   |
      | members.0.state | calling |
      | members.3.user  | dave    |
      | members.3.state | ringing |

  Scenario: A call to several users without a group is an ad-hoc group call
    When alice places an audio call to bob and carol
    Then bob and carol see "call-1: incoming Audio call from alice"
    And the invitation bob received has:
      | info.group    | none       |
      | info.invitees | bob, carol |
    And alice sees, in any order:
      """
      call-1: bob ringing
      call-1: status ringing
      call-1: carol ringing
      """
    When carol accepts
    And bob declines
    Then alice sees:
      """
      call-1: carol joined
      call-1: status connecting
      call-1: status connected
      call-1: bob declined (603)
      """
    And carol sees:
      """
      call-1: status connecting
      call-1: status connected
      call-1: bob declined (603)
      """
    And bob sees "call-1: detached, declined here"

  Scenario: When every invitee declines, the call ends with the last decline
    Given alice places an audio call in team to bob and carol
    When bob declines
    Then bob sees "call-1: detached, declined here"
    And alice sees "call-1: bob declined (603)"
    When carol declines with 486
    Then alice and carol see "call-1: ended, declined by carol (486)"
    And bob sees nothing more
    And the call ended: declined by carol (486)
    And the end code of the call is 486

  Scenario: An invitee declining after someone answered leaves the call going on
    Given alice places an audio call in team to bob and carol
    And bob accepts
    When carol declines
    Then carol sees "call-1: detached, declined here"
    And alice and bob see "call-1: carol declined (603)"
    And the call is connected

  Scenario: Only reachable invitees ring; the reply names the busy and the unavailable
    Given user erin
    And erin calls bob
    And bob accepts
    And carol is offline
    When alice places an audio call in team to bob, carol and dave
    Then the busy invitees are bob
    And the unavailable invitees are carol
    And dave sees "call-2: incoming group Audio call in team from alice"
    And alice sees:
      """
      call-2: dave ringing
      call-2: status ringing
      """
    And bob's state in call-2 is busy
    And carol's state in call-2 is unavailable
    And call-1 is connected
    When dave declines
    Then alice and dave see "call-2: ended, declined by dave (603)"
    And bob sees nothing more

  Scenario: A group call where nobody can ring is refused as busy
    Given user erin
    And erin calls bob
    And bob accepts
    And carol is offline
    When alice places an audio call in team to bob and carol
    Then it fails with 486
    When alice places an audio call in team to carol
    Then it fails with 480
    And nobody sees anything more

  Scenario Outline: Group calls are placed by and to members of an existing group
    Given user zed
    When <caller> places an audio call in <group> to <invitees>
    Then it fails with <code> saying "<message>"
    And nobody sees anything more

    Examples:
      | caller | group   | invitees   | code | message                   |
      | zed    | team    | bob        | 403  | not a member of the group |
      | alice  | team    | bob and zed | 403 | not a member of the group |
      | alice  | nowhere | bob        | 404  | no such group             |

  Scenario: Members leave one by one; the call ends when fewer than two remain
    Given alice places an audio call in team to bob and carol
    And bob accepts
    And carol accepts
    When alice hangs up
    Then alice sees "call-1: detached, left"
    And bob and carol see "call-1: alice left"
    And the call is connected
    When carol hangs up
    Then bob and carol see "call-1: ended, hung up by carol"
    And alice sees nothing more
    And the call ended: hung up by carol
