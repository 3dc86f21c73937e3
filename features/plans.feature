@plans
Feature: Plans and entitlements
  A user's plan says which calls they may place: 1:1 audio, 1:1 video, group calls, and how many
  participants a call they host may have, the host included. A call outside the plan is refused
  with 403 before anything rings (MirrorFly: "if the feature is unavailable for your plan, 403").
  Only the caller's plan counts.

  Background:
    Given users alice, bob, carol and dave
    And a group team of alice, bob, carol and dave

  Scenario Outline: A call the plan excludes is refused with 403: <excluded>
    Given alice's plan excludes <excluded>
    When alice <call>
    Then it fails with 403 saying "the plan does not include <feature>"
    And nobody sees anything more

    Examples:
      | excluded    | call                                          | feature         |
      | 1:1 audio   | places an audio call to bob                   | 1:1 audio calls |
      | 1:1 video   | places a video call to bob                    | 1:1 video calls |
      | group calls | places an audio call in team to bob and carol | group calls     |
      | group calls | places a video call in team to bob            | group calls     |
      | group calls | places an audio call to bob and carol         | group calls     |

  Scenario Outline: What the plan still includes works: without <excluded>, <call>
    Given alice's plan excludes <excluded>
    When alice <call>
    Then bob sees "call-1: incoming <shown> from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """

    Examples:
      | excluded    | call                        | shown       |
      | 1:1 audio   | places a video call to bob  | Video call  |
      | 1:1 video   | places an audio call to bob | Audio call  |
      | group calls | places a video call to bob  | Video call  |

  Scenario: The audio-only plan allows 1:1 audio calls only
    Given alice is on the audio-only plan
    When alice places a video call to bob
    Then it fails with 403
    When alice places an audio call in team to bob and carol
    Then it fails with 403
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """

  Scenario: Only the caller's plan counts
    Given bob is on the audio-only plan
    When alice places a video call to bob
    Then bob sees "call-1: incoming Video call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """

  Scenario: The plan bounds the participants of a call, the host included
    Given alice's plan allows at most 3 participants
    When alice places an audio call in team to bob, carol and dave
    Then it fails with 403 saying "at most 3 participants"
    When alice places an audio call in team to bob and carol
    Then bob and carol see "call-1: incoming group Audio call in team from alice"
    And alice sees, in any order:
      """
      call-1: bob ringing
      call-1: status ringing
      call-1: carol ringing
      """
    Given bob accepts
    When bob invites dave
    Then it fails with 403 saying "at most 3 participants"
    And dave sees nothing

  Scenario: A plan changed during a call applies to the next call
    Given alice calls bob
    And bob accepts
    And alice's plan excludes 1:1 audio
    When alice sends a message "still talking"
    Then bob sees "call-1: message (13 B) from alice"
    Given alice hangs up
    When alice calls bob
    Then it fails with 403
